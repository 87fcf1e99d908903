// filestore.meta.v1.DownloadLinkService: download targets and the revocation of signed links (logic in
// links.ts).

import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DownloadLinkService } from "../../proto/gen/filestore/meta/v1/links_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex } from "../lib/validate.ts";
import * as content from "./content.ts";
import { InvalidCursorError } from "./files.ts";
import { listFolderTree, NotAFolderError } from "./folder-tree.ts";
import * as links from "./links.ts";
import { blobRecord, fileRecord, type MetaDeps } from "./records.ts";

export function downloadLinkService({
  db,
  now,
  maxFolderDepth,
}: MetaDeps): ServiceImpl<typeof DownloadLinkService> {
  return {
    async getDownloadTarget(req) {
      let key: links.TargetKey;
      if (req.sha1) {
        if (!req.ownerId || req.fileId || req.shareId)
          throw invalidArgument("give owner_id and sha1, or a file_id (with a share_id, if any)");
        key = { ownerId: req.ownerId, sha1: hex(req.sha1, 40, "sha1") };
      } else {
        if (!req.fileId) throw invalidArgument("file_id (or owner_id and sha1) is required");
        key = {
          fileId: req.fileId,
          ownerId: req.ownerId || undefined,
          versionId: req.versionId || undefined,
          share: req.shareId ? { id: req.shareId, now: now(), maxDepth: maxFolderDepth } : undefined,
        };
      }
      const t = await links.getDownloadTarget(db, key);
      if (!t) throw notFound(req.versionId ? "no such file or version" : "no such file");
      return {
        file: fileRecord(t.file),
        blob: blobRecord(t.blob),
        linkGeneration: BigInt(t.linkGeneration),
        shareExpiresAtMs: BigInt(t.shareExpiresAt ?? 0),
      };
    },
    async revokeDownloadLinks(req) {
      if (!req.ownerId || !req.fileId) throw invalidArgument("owner_id and file_id are required");
      try {
        return {
          linkGeneration: BigInt(await links.revokeDownloadLinks(db, req.ownerId, req.fileId, now())),
        };
      } catch (err) {
        if (err instanceof content.FileNotFoundError) throw notFound("no such file");
        throw err;
      }
    },
    async listFolderTree(req) {
      if (!req.folderId) throw invalidArgument("folder_id is required");
      try {
        const page = await listFolderTree(db, {
          folderId: req.folderId,
          ownerId: req.ownerId || undefined,
          pageSize: req.pageSize,
          pageToken: req.pageToken || undefined,
        });
        const { root } = page;
        return {
          folder: {
            id: root.id,
            ownerId: root.owner_id,
            name: root.name,
            kind: "folder",
            status: "active",
            updatedAt: timestampFromMs(root.updated_at),
          },
          linkGeneration: BigInt(root.linkGeneration),
          entries: page.entries.map((e) => ({
            path: e.path,
            kind: e.kind,
            size: BigInt(e.size),
            sha256: e.sha256,
            backend: e.backend,
            location: e.location,
            updatedAt: timestampFromMs(e.updated_at),
            crc32: e.crc32 ?? undefined,
          })),
          nextPageToken: page.nextPageToken,
        };
      } catch (err) {
        if (err instanceof content.FolderNotFoundError)
          throw notFound("no such folder (or it is in the trash)");
        if (err instanceof NotAFolderError)
          throw failedPrecondition("this is a file, not a folder: download it as it is");
        if (err instanceof InvalidCursorError) throw invalidArgument(err.message);
        throw err;
      }
    },
  };
}
