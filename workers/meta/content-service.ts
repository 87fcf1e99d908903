// filestore.meta.v1.ContentService: stored content and the files naming it (logic in content.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { ContentService, NewFile } from "../../proto/gen/filestore/meta/v1/content_pb.ts";
import { aborted, failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex, pageSize, size } from "../lib/validate.ts";
import * as content from "./content.ts";
import * as hashes from "./content-hashes.ts";
import { NameTakenError, nameTakenStatus } from "./names.ts";
import { blobRecord, fileRecord, type MetaDeps } from "./records.ts";
import * as uploads from "./uploads.ts";

function newFile(f: NewFile | undefined, { versionsKeep, quota }: MetaDeps): content.NewFile {
  if (!f?.ownerId || !f.name) throw invalidArgument("file.owner_id and file.name are required");
  return {
    ownerId: f.ownerId,
    parentId: f.parentId,
    name: f.name,
    onConflict: f.onConflict,
    versionsKeep,
    quota,
  };
}

/**
 * What was held for an upload's file already: the session's reservation (its declared size, which the
 * upload worker checked the file against) or the data plane's hold (held_bytes).
 */
async function heldFor(
  deps: MetaDeps,
  ownerId: string,
  req: { heldBytes: bigint; completes?: { sessionId: string } },
) {
  if (req.heldBytes < 0n) throw invalidArgument("held_bytes cannot be negative");
  const session = req.completes
    ? await uploads.findSession(deps.db, req.completes.sessionId, ownerId)
    : undefined;
  return { reserved: session ? session.size : 0, pending: Number(req.heldBytes) };
}

/**
 * An upload's target folder is gone: FailedPrecondition (NotFound means "no such content" there); its
 * name is taken under FAIL: AlreadyExists (NAME_TAKEN).
 */
function targetFolder(err: unknown): unknown {
  if (err instanceof NameTakenError) return nameTakenStatus(err);
  if (err instanceof content.FolderNotFoundError)
    return failedPrecondition(
      'the target folder does not exist or is in the trash: choose another folder (parent_id, "" for the root; CompleteUploadSession takes one too)',
    );
  return err;
}

export function contentService(deps: MetaDeps): ServiceImpl<typeof ContentService> {
  const { db, now } = deps;
  return {
    async addFileWithContent(req) {
      const file = newFile(req.file, deps);
      const b = req.blob;
      if (!b?.location || !b.backend) throw invalidArgument("blob.location and blob.backend are required");
      const completes = req.completes;
      if (completes && (!completes.sessionId || !completes.owner))
        throw invalidArgument("completes needs session_id and owner");
      file.held = await heldFor(deps, file.ownerId, req);
      try {
        const res = await content.addFileWithContent(
          db,
          file,
          {
            sha256: hex(b.sha256, 64, "blob.sha256"),
            // "" = not known yet (a modern upload; the upload worker backfills it).
            sha1: b.sha1 === "" ? "" : hex(b.sha1, 40, "blob.sha1"),
            size: size(b.size),
            backend: b.backend,
            location: b.location,
            crc32: b.crc32,
          },
          now(),
          {
            transfer: req.enqueueTransfer,
            within: completes
              ? (tx, f) => uploads.completeWithin(tx, completes.sessionId, completes.owner, f.id)
              : undefined,
          },
        );
        return { file: fileRecord(res.file), duplicateOf: res.duplicateOf ?? "" };
      } catch (err) {
        if (err instanceof content.BlobBusyError)
          throw aborted("this content is being deleted; store it again");
        if (err instanceof uploads.CompletionLostError) {
          throw failedPrecondition(
            "this completion stalled and another CompleteUploadSession took the upload over: call it again for the result",
          );
        }
        throw targetFolder(err);
      }
    },
    async addFileForExistingBlob(req) {
      try {
        return {
          file: fileRecord(
            await content.addFileForExistingBlob(
              db,
              newFile(req.file, deps),
              hex(req.sha256, 64, "sha256"),
              now(),
            ),
          ),
        };
      } catch (err) {
        if (err instanceof content.BlobNotFoundError) throw notFound("no stored content has this hash");
        throw targetFolder(err);
      }
    },
    async getBlob(req) {
      const blob = await content.findBlob(db, hex(req.sha256, 64, "sha256"));
      if (!blob) throw notFound("no stored content has this hash");
      return { blob: blobRecord(blob) };
    },
    async findBlobBySha1(req) {
      const blob = await hashes.findBlobBySha1(db, hex(req.sha1, 40, "sha1"), req.ownerId || undefined);
      if (!blob) throw notFound("no stored content has this hash");
      return { blob: blobRecord(blob) };
    },
    async getFile(req) {
      const file = req.ownerId && req.id ? await content.findFile(db, req.ownerId, req.id) : undefined;
      if (!file) throw notFound("no such file or folder");
      return { file: fileRecord(file), sha1: file.sha1 };
    },
    async purgeFile(req) {
      if (!req.ownerId || !req.fileId) throw invalidArgument("owner_id and file_id are required");
      try {
        return { unreferencedSha256s: await content.purgeFile(db, req.ownerId, req.fileId, now()) };
      } catch (err) {
        if (err instanceof content.FileNotFoundError) throw notFound("no such file or folder");
        throw err;
      }
    },
    async claimGarbage(req) {
      const blobs = await content.claimGarbage(
        db,
        now(),
        Number(req.graceMs),
        pageSize(req.limit),
        req.staleClaimMs > 0n ? Number(req.staleClaimMs) : content.STALE_CLAIM_MS,
      );
      return { blobs: blobs.map(blobRecord) };
    },
    async forgetBlob(req) {
      await content.forgetBlob(db, hex(req.sha256, 64, "sha256"), req.location || undefined);
      return {};
    },

    // sha1 backfill
    async setBlobSha1(req) {
      return {
        recorded: await hashes.setBlobSha1(db, hex(req.sha256, 64, "sha256"), hex(req.sha1, 40, "sha1")),
      };
    },
    async setBlobCrc32(req) {
      return { recorded: await hashes.setBlobCrc32(db, hex(req.sha256, 64, "sha256"), req.crc32) };
    },
    async listBlobsWithoutSha1(req) {
      const after = req.afterSha256 ? hex(req.afterSha256, 64, "after_sha256") : "";
      const blobs = await hashes.blobsWithoutSha1(db, after, pageSize(req.limit));
      return { blobs: blobs.map(blobRecord) };
    },
  };
}
