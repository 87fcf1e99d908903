// The streamed single upload: bytes are hashed while they are written to a temporary object, made
// durable, and only then named by a file row — so a broken connection leaves neither a file row nor
// stored bytes behind.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import {
  WatchFilesResponse_Change as Change,
  ConflictPolicy,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { FileRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import * as blobErrors from "../lib/blobstore/errors.ts";
import type { BlobBody, BlobStore, StagedBlob, StoreFor } from "../lib/blobstore/types.ts";
import type { Publishers } from "../lib/bus/events.ts";
import { aborted, failedPrecondition, invalidArgument, resourceExhausted } from "../lib/errors.ts";
import { failpoint } from "../lib/failpoint.ts";
import { publicFile } from "../lib/file-record.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { UploadMetrics } from "../lib/metrics/upload.ts";
import { checkFileName } from "../lib/names.ts";
import { QuotaHold } from "./quota-hold.ts";

export interface UploadDeps {
  meta: MetaClient;
  /** Where new content lands. */
  blobs: BlobStore;
  /** The store holding a blob row's bytes, by its backend (content moves under the transfer policy). */
  storeFor: StoreFor;
  /** The transfer storage policy: new local content gets a transfer job with its blob row. */
  enqueueTransfer?: boolean;
  /** Largest accepted file (bytes). */
  maxUploadBytes: number;
  /**
   * Called with the SHA-256 of content linked without its SHA-1 (not known yet): the SHA-1 backfill
   * (sha1.ts) computes it off the request.
   */
  backfillSha1?: (sha256: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** The upload funnel's metrics (workers/lib/metrics/upload.ts); none in most tests. */
  metrics?: UploadMetrics;
  /** The event bus's publishers: each new file (uploads, instant links) once meta recorded it. */
  events?: Publishers;
}

/** Tells the bus about a file an upload made (or gave new content) once meta has committed it. */
export function announceUpload(deps: Pick<UploadDeps, "events">, ownerId: string, record: FileRecord): void {
  if (!deps.events) return;
  const file = publicFile(record);
  const created =
    file.createdAt && file.updatedAt && timestampMs(file.createdAt) === timestampMs(file.updatedAt);
  deps.events.fileChanged({ ownerId, op: "upload", change: created ? Change.CREATED : Change.UPDATED, file });
  deps.events.uploaded({ ownerId, fileId: file.id, sha256: file.sha256, size: Number(file.size) });
}

export interface UploadTarget {
  name: string;
  /** Folder id; "" for the root. */
  parentId: string;
  /** Announced size (Content-Length), checked against what arrives. */
  expectedSize?: number;
  /** Announced SHA-256, checked against what arrives. */
  expectedSha256?: string;
  /**
   * Compute SHA-1 now (the legacy routes: their clients get `filehash` back and may fast-upload by it at
   * once). Otherwise it is left to the backfill.
   */
  sha1?: boolean;
  /** When the name is taken (UNSPECIFIED: FAIL, the data plane's default; the legacy routes send rename). */
  onConflict?: ConflictPolicy;
}

const POLICIES: Record<string, ConflictPolicy> = {
  fail: ConflictPolicy.FAIL,
  rename: ConflictPolicy.RENAME,
  replace: ConflictPolicy.REPLACE,
};

/** The `on_conflict` query parameter or field of the data plane and tus: fail | rename | replace. */
export function conflictParam(value: string | null | undefined): ConflictPolicy {
  if (!value) return ConflictPolicy.UNSPECIFIED;
  const p = POLICIES[value.toLowerCase()];
  if (p === undefined) throw invalidArgument('on_conflict must be "fail", "rename" or "replace"');
  return p;
}

const FOLDER_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$/;

/** Blob store failures as Connect errors a client can act on. */
export function blobError(err: unknown): unknown {
  if (err instanceof blobErrors.BlobTooLargeError) return resourceExhausted(err.message);
  if (err instanceof blobErrors.BlobSizeMismatchError || err instanceof blobErrors.BlobHashMismatchError) {
    return invalidArgument(err.message);
  }
  if (err instanceof blobErrors.InvalidArgumentError) return invalidArgument(err.message);
  if (err instanceof blobErrors.PartsBusyError) return aborted(err.message);
  if (err instanceof blobErrors.SessionSealedError || err instanceof blobErrors.MissingPartError)
    return failedPrecondition(err.message);
  return err;
}

/** Where an upload goes: its checked name, folder and conflict policy. */
export interface Placed {
  name: string;
  parentId: string;
  onConflict: ConflictPolicy;
}

export function checkTarget(t: Pick<UploadTarget, "name" | "parentId" | "onConflict">): Placed {
  const checked = checkFileName(t.name);
  if ("error" in checked) throw invalidArgument(checked.error);
  if (!FOLDER_ID.test(t.parentId))
    throw invalidArgument("parent_id must be a folder id or empty for the root");
  return { name: checked.name, parentId: t.parentId, onConflict: t.onConflict ?? ConflictPolicy.UNSPECIFIED };
}

/**
 * Bodies announced at most this large are small: their SHA-1 is computed as they arrive (for such sizes
 * cheaper than the backfill's second read and its transaction), and no quota hold comes first: the
 * transaction that records the file charges them or refuses (QUOTA_EXCEEDED), and at most this much was
 * written before a full quota says no. So a small file costs one write transaction, not three.
 */
export const SMALL_UPLOAD_BYTES = 1024 * 1024;

export async function storeUpload(
  deps: UploadDeps,
  who: Identity,
  target: UploadTarget,
  body: BlobBody,
): Promise<FileRecord> {
  const placed = checkTarget(target);
  // The owner's quota: the announced size is held before any byte is read, else the body as it arrives.
  const hold = new QuotaHold(deps.meta, who.userId);
  const announced = target.expectedSize;
  const known = announced !== undefined && announced <= deps.maxUploadBytes;
  const small = known && announced <= SMALL_UPLOAD_BYTES;
  try {
    if (known && !small) await hold.reserve(announced);
    const staged = await deps.blobs
      .stage(known ? body : hold.meter(body), {
        maxBytes: deps.maxUploadBytes,
        expectedSize: target.expectedSize,
        expectedSha256: target.expectedSha256,
        skipSha1: !target.sha1 && !small,
      })
      .catch((err) => {
        if (err instanceof blobErrors.BlobHashMismatchError) deps.metrics?.hashMismatch();
        throw blobError(err);
      });
    return await linkStaged(deps, who, placed, staged, undefined, hold.held);
  } catch (err) {
    await hold.release();
    throw err;
  }
}

/**
 * Makes staged bytes durable and names them with a file row (which completes the upload session
 * `completes` names, in the same transaction). When the row cannot be written, the bytes are removed again
 * (each stored copy has its own location, so that never touches other content).
 */
export async function linkStaged(
  deps: UploadDeps,
  who: Identity,
  target: Placed,
  staged: StagedBlob,
  completes?: { sessionId: string; owner: string },
  /** Bytes of the owner's quota held for this file (QuotaHold): the file takes them over. */
  heldBytes = 0,
): Promise<FileRecord> {
  const { name, parentId, onConflict } = target;
  let location: string;
  try {
    location = await staged.commit();
  } catch (err) {
    await staged.discard();
    throw err;
  }
  // Test-only: bytes in place, no row yet (e2e/completion-crash.test.ts, e2e/fsck-crash.test.ts).
  failpoint(completes ? "upload.complete.committed" : "upload.put.committed");
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await deps.meta.addFileWithContent({
          file: { ownerId: who.userId, parentId, name, onConflict },
          blob: {
            sha256: staged.sha256,
            sha1: staged.sha1,
            size: BigInt(staged.size),
            backend: deps.blobs.backend,
            location,
            crc32: staged.crc32,
          },
          enqueueTransfer: deps.enqueueTransfer ?? false,
          completes,
          heldBytes: BigInt(heldBytes),
        });
        // Known content: the stored copy serves, ours is redundant.
        if (res.duplicateOf && res.duplicateOf !== location) await deps.blobs.delete(location);
        if (!res.file) throw new ConnectError("meta returned no file", Code.Internal);
        if (!staged.sha1) deps.backfillSha1?.(staged.sha256);
        deps.metrics?.stored(staged.size, Boolean(res.duplicateOf));
        announceUpload(deps, who.userId, res.file);
        return res.file;
      } catch (err) {
        // The same content is being garbage-collected this very moment: once its row is gone, ours
        // (at its own location) becomes the content. Wait briefly and retry.
        if (ConnectError.from(err).code !== Code.Aborted || attempt >= 20) throw err;
        await sleep(50 * (attempt + 1));
      }
    }
  } catch (err) {
    // Nothing names our bytes: remove them (locations are unique per stored copy).
    await deps.blobs.delete(location).catch(() => undefined);
    throw err;
  }
}
