// The versions RPCs of filestore.meta.v1.TreeService (logic in versions.ts), joined into treeService.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { TreeService } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { fileRecord, type MetaDeps } from "./records.ts";
import { fileOp } from "./tree-service.ts";
import * as versions from "./versions.ts";

const versionRecord = (v: versions.VersionRow) => ({
  id: v.id,
  fileId: v.file_id,
  blobSha256: v.blob_sha256 ?? "",
  sha1: v.sha1,
  size: BigInt(v.size),
  createdAt: timestampFromMs(v.created_at),
  archivedAt: timestampFromMs(v.archived_at),
});

function required(req: { ownerId: string; fileId: string; versionId?: string }): void {
  if (!req.ownerId || !req.fileId || req.versionId === "")
    throw invalidArgument("owner_id, file_id (and version_id) are required");
}

type VersionRpcs = Pick<
  ServiceImpl<typeof TreeService>,
  "listVersions" | "restoreVersion" | "deleteVersion" | "pruneVersions"
>;

export function versionHandlers({ db, now, versionsKeep }: MetaDeps): VersionRpcs {
  return {
    async listVersions(req) {
      required(req);
      const rows = await fileOp(() => versions.listVersions(db, req.ownerId, req.fileId));
      return { versions: rows.map(versionRecord) };
    },
    async restoreVersion(req) {
      required(req);
      const file = await fileOp(() =>
        versions.restoreVersion(db, req.ownerId, req.fileId, req.versionId, now(), versionsKeep),
      );
      return { file: fileRecord(file) };
    },
    async deleteVersion(req) {
      required(req);
      await fileOp(() => versions.deleteVersion(db, req.ownerId, req.fileId, req.versionId, now()));
      return {};
    },
    async pruneVersions(req) {
      if (req.maxAgeMs <= 0n) throw invalidArgument("max_age_ms must be positive");
      const dropped = await versions.pruneVersions(
        db,
        now(),
        Number(req.maxAgeMs),
        versionsKeep,
        req.limit > 0 ? req.limit : 500,
      );
      return { dropped };
    },
  };
}
