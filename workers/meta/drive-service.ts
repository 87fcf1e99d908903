// TreeService's handlers for search, copy and the trash's upkeep (issue 16); the rest is tree-service.ts.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { TreeService } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { CATEGORIES, type Category } from "./categories.ts";
import type { MetaDeps } from "./records.ts";
import { fileRecord } from "./records.ts";
import { searchFiles } from "./search.ts";
import { fileOp, SORT_KEYS } from "./tree-service.ts";

type Drive = Pick<
  ServiceImpl<typeof TreeService>,
  "searchFiles" | "emptyTrash" | "purgeExpiredTrash" | "copyFile"
>;

export function driveHandlers({ db }: MetaDeps): Drive {
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
    async emptyTrash() {
      throw new ConnectError("not yet", Code.Unimplemented);
    },
    async purgeExpiredTrash() {
      throw new ConnectError("not yet", Code.Unimplemented);
    },
    async copyFile() {
      throw new ConnectError("not yet", Code.Unimplemented);
    },
  };
}
