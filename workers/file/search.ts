// FileService.SearchFiles: the public request mapped onto meta's TreeService.SearchFiles for the caller.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Identity } from "../../core/access-token.ts";
import { FileCategory, type SearchFilesRequest } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import { type FileDeps, SORT_KEYS } from "./files.ts";

const CATEGORY: Record<FileCategory, string> = {
  [FileCategory.UNSPECIFIED]: "",
  [FileCategory.FOLDER]: "folder",
  [FileCategory.IMAGE]: "image",
  [FileCategory.VIDEO]: "video",
  [FileCategory.AUDIO]: "audio",
  [FileCategory.DOCUMENT]: "document",
  [FileCategory.ARCHIVE]: "archive",
};

export async function searchFiles(deps: FileDeps, who: Identity, req: SearchFilesRequest) {
  const sort = SORT_KEYS[req.sort];
  if (!sort)
    throw invalidArgument("sort must be one of SORT_FIELD_NAME, SORT_FIELD_SIZE, SORT_FIELD_UPDATED_AT");
  const category = CATEGORY[req.category];
  if (category === undefined) throw invalidArgument("category must be one of the FileCategory values");
  if (req.pageSize < 0) throw invalidArgument("page_size cannot be negative");
  if (!req.query.trim()) throw invalidArgument("query is required: a part of the name to look for");
  const from = req.modifiedFrom ? timestampMs(req.modifiedFrom) : 0;
  const to = req.modifiedTo ? timestampMs(req.modifiedTo) : 0;
  if (from < 0 || to < 0) throw invalidArgument("modification times cannot be before 1970");
  const res = await deps.meta.searchFiles({
    ownerId: who.userId,
    query: req.query,
    folderId: req.folderId,
    category,
    modifiedFromMs: BigInt(from),
    modifiedToMs: BigInt(to),
    sort,
    descending: req.descending,
    pageSize: req.pageSize,
    pageToken: req.pageToken,
  });
  return { files: res.files.map((f) => publicFile(f)), nextPageToken: res.nextPageToken };
}
