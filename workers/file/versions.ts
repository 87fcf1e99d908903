// FileService's versions RPCs: a file's earlier contents (logic and retention in workers/meta/versions.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { FileService } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { VersionRecord } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { requireIdentity } from "../lib/context.ts";
import { invalidArgument } from "../lib/errors.ts";
import { Change, changed, type FileDeps } from "./files.ts";

const publicVersion = (v: VersionRecord) => ({
  id: v.id,
  size: v.size,
  sha256: v.blobSha256,
  sha1: v.sha1,
  createdAt: v.createdAt,
  archivedAt: v.archivedAt,
});

function ids(req: { fileId: string; versionId?: string }) {
  if (!req.fileId || req.versionId === "") throw invalidArgument("file_id (and version_id) are required");
  return req;
}

export function versionRoutes(
  deps: FileDeps,
): Pick<ServiceImpl<typeof FileService>, "listVersions" | "restoreVersion" | "deleteVersion"> {
  return {
    async listVersions(req, ctx) {
      const { userId } = requireIdentity(ctx);
      const res = await deps.meta.listVersions({ ownerId: userId, fileId: ids(req).fileId });
      return { versions: res.versions.map(publicVersion) };
    },
    async restoreVersion(req, ctx) {
      const who = requireIdentity(ctx);
      const res = await deps.meta.restoreVersion({ ownerId: who.userId, ...ids(req) });
      return { file: await changed(deps, who, Change.UPDATED, res.file, "version") };
    },
    async deleteVersion(req, ctx) {
      const { userId } = requireIdentity(ctx);
      await deps.meta.deleteVersion({ ownerId: userId, ...ids(req) });
      return {};
    },
  };
}
