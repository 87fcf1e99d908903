// TreeService's handlers for search, copy, the trash's upkeep (issue 16) and path lookups (WebDAV, issue
// 19); the rest is tree-service.ts.
import type { ServiceImpl } from "@connectrpc/connect";
import type { TreeService } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { pageSize } from "../lib/validate.ts";
import { CATEGORIES, type Category } from "./categories.ts";
import { copyFile } from "./copy.ts";
import { ConflictPolicy } from "./names.ts";
import { PathTooDeepError, resolvePath } from "./path-lookup.ts";
import type { MetaDeps } from "./records.ts";
import { fileRecord } from "./records.ts";
import { searchFiles } from "./search.ts";
import { emptyTrash, purgeExpiredTrash } from "./trash-upkeep.ts";
import { fileOp, SORT_KEYS } from "./tree-service.ts";

type Drive = Pick<
  ServiceImpl<typeof TreeService>,
  "searchFiles" | "emptyTrash" | "purgeExpiredTrash" | "copyFile" | "resolvePath"
>;

const POLICIES: Record<string, ConflictPolicy> = {
  "": ConflictPolicy.FAIL,
  fail: ConflictPolicy.FAIL,
  rename: ConflictPolicy.RENAME,
  replace: ConflictPolicy.REPLACE,
};

export function driveHandlers({ db, now, maxFolderDepth, versionsKeep, quota }: MetaDeps): Drive {
  return {
    async searchFiles(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      const sort = SORT_KEYS[req.sort];
      if (!sort) throw invalidArgument('sort must be "name", "size" or "updated_at"');
      if (req.category !== "" && !CATEGORIES.includes(req.category as Category))
        throw invalidArgument(`category must be one of ${CATEGORIES.join(", ")}`);
      if (req.modifiedFromMs < 0n || req.modifiedToMs < 0n)
        throw invalidArgument("modification times cannot be before 1970");
      const page = await fileOp(() =>
        searchFiles(db, {
          ownerId: req.ownerId,
          query: req.query,
          folderId: req.folderId,
          category: (req.category || undefined) as Category | undefined,
          modifiedFrom: Number(req.modifiedFromMs),
          modifiedTo: Number(req.modifiedToMs),
          sort,
          descending: req.descending,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        }),
      );
      return { files: page.files.map(fileRecord), nextPageToken: page.nextPageToken };
    },
    async emptyTrash(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      const { files, unreferenced } = await emptyTrash(db, req.ownerId, now());
      return { count: files.length, files: files.map(fileRecord), unreferencedSha256s: unreferenced };
    },
    async purgeExpiredTrash(req) {
      if (req.retentionMs <= 0n) throw invalidArgument("retention_ms must be > 0");
      const at = now();
      const { files, unreferenced } = await purgeExpiredTrash(
        db,
        at - Number(req.retentionMs),
        pageSize(req.limit),
        at,
      );
      return { count: files.length, files: files.map(fileRecord), unreferencedSha256s: unreferenced };
    },
    async copyFile(req) {
      if (!req.ownerId || !req.id) throw invalidArgument("owner_id and id are required");
      const policy = POLICIES[req.onConflict];
      if (!policy) throw invalidArgument('on_conflict must be "fail", "rename" or "replace"');
      const res = await fileOp(() =>
        copyFile(db, { ...req, policy, versionsKeep }, now(), maxFolderDepth, quota),
      );
      return { file: fileRecord(res.file), count: res.count, replaced: res.replaced ?? false };
    },
    async resolvePath(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      try {
        return { entries: (await resolvePath(db, req.ownerId, req.names)).map(fileRecord) };
      } catch (err) {
        if (err instanceof PathTooDeepError) throw invalidArgument(err.message);
        throw err;
      }
    },
  };
}
