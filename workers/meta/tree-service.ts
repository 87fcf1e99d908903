// filestore.meta.v1.TreeService: the folder tree and the trash (logic in files.ts and orphans.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { TreeService } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex, pageSize } from "../lib/validate.ts";
import { CopyReplaceError } from "./copy.ts";
import { driveHandlers } from "./drive-service.ts";
import * as files from "./files.ts";
import * as listing from "./listing.ts";
import { nameTakenStatus } from "./names.ts";
import { repairOrphans } from "./orphans.ts";
import { fileRecord, type MetaDeps } from "./records.ts";
import { SearchTooWideError } from "./search.ts";
import * as trashing from "./trash.ts";
import { originalPaths } from "./trash-upkeep.ts";
import { versionHandlers } from "./version-service.ts";
import { VersionNotFoundError } from "./versions.ts";

export const SORT_KEYS: Record<string, listing.SortKey> = {
  "": "name",
  name: "name",
  size: "size",
  updated_at: "updated_at",
};

/** Runs a file-management call, turning its errors into codes a user can act on. */
export async function fileOp<T>(
  op: () => Promise<T>,
  onNameTaken?: (e: files.NameTakenError) => string,
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    // Someone else's entry and a missing one fail alike.
    if (err instanceof files.FileNotFoundError) throw notFound("no such file or folder");
    if (err instanceof files.FolderNotFoundError) throw notFound("no such folder (or it is in the trash)");
    if (err instanceof files.NameTakenError) throw nameTakenStatus(err, onNameTaken?.(err));
    if (err instanceof VersionNotFoundError) throw notFound(err.message);
    if (
      err instanceof files.InvalidNameError ||
      err instanceof files.InvalidCursorError ||
      err instanceof files.InvalidMoveError ||
      err instanceof CopyReplaceError
    )
      throw invalidArgument(err.message);
    // The tree's current shape refuses it (not the arguments as such): FailedPrecondition.
    if (
      err instanceof files.TrashStateError ||
      err instanceof files.FolderDepthError ||
      err instanceof SearchTooWideError
    )
      throw failedPrecondition(err.message);
    throw err;
  }
}

function owned(req: { ownerId: string; id?: string }): void {
  if (!req.ownerId || req.id === "") throw invalidArgument("owner_id and id are required");
}

export function treeService(deps: MetaDeps): ServiceImpl<typeof TreeService> {
  const { db, now, maxFolderDepth: maxDepth, versionsKeep } = deps;
  return {
    ...versionHandlers(deps),
    async listFiles(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      const sort = SORT_KEYS[req.sort];
      if (!sort) throw invalidArgument('sort must be "name", "size" or "updated_at"');
      const page = await fileOp(() =>
        listing.listFiles(db, {
          ownerId: req.ownerId,
          parentId: req.parentId,
          allFolders: req.allFolders,
          sort,
          descending: req.descending,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
          sha1: req.sha1 ? hex(req.sha1, 40, "sha1") : undefined,
        }),
      );
      return { files: page.files.map(fileRecord), nextPageToken: page.nextPageToken };
    },
    async createFolder(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      const folder = await fileOp(() => files.createFolder(db, req, now(), maxDepth));
      return { folder: fileRecord(folder) };
    },
    async renameFile(req) {
      owned(req);
      return {
        file: fileRecord(await fileOp(() => files.renameFile(db, req.ownerId, req.id, req.name, now()))),
      };
    },
    async moveFile(req) {
      owned(req);
      const file = await fileOp(() =>
        files.moveFile(db, req.ownerId, req.id, req.newParentId, now(), maxDepth, {
          onConflict: req.onConflict,
          versionsKeep,
        }),
      );
      return { file: fileRecord(file) };
    },
    async trashFile(req) {
      owned(req);
      const res = await fileOp(() => trashing.trashFile(db, req.ownerId, req.id, now()));
      return { file: fileRecord(res.file), count: res.count };
    },
    async listTrash(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      const page = await fileOp(() => listing.listTrash(db, req));
      return {
        files: page.files.map(fileRecord),
        nextPageToken: page.nextPageToken,
        originalPaths: await originalPaths(db, req.ownerId, page.files),
      };
    },
    async restoreFile(req) {
      owned(req);
      const file = await fileOp(
        () =>
          trashing.restoreFile(db, req.ownerId, req.id, now(), maxDepth, {
            onConflict: req.onConflict,
            versionsKeep,
          }),
        (e) =>
          `an active entry named "${e.taken}" already exists ${e.parentId ? "in the folder this one returns to" : "in the root folder, where this one returns"}: rename or move that entry, or restore with on_conflict "rename" or "replace"`,
      );
      return { file: fileRecord(file) };
    },
    async purgeTrashedFile(req) {
      owned(req);
      const res = await fileOp(() => trashing.purgeTrashed(db, req.ownerId, req.id, now()));
      return { file: fileRecord(res.file), count: res.count, unreferencedSha256s: res.unreferenced };
    },
    async repairOrphans(req) {
      return repairOrphans(db, now(), pageSize(req.limit));
    },
    ...driveHandlers(deps),
  };
}
