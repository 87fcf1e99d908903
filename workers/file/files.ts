// FileService's logic: the caller's identity scopes every meta call (owner_id), so another user's
// entry is indistinguishable from a missing one. Names, conflicts, paging and the trash live in the data
// layer (workers/meta/files.ts); this maps the public messages onto it and reports each change.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Identity } from "../../core/access-token.ts";
import {
  WatchFilesResponse_Change as Change,
  ConflictPolicy,
  type File,
  type ListFilesRequestSchema,
  SortField,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { FileRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { FileOp } from "../lib/bus/events.ts";
import { invalidArgument } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import type { MetaClient } from "../lib/meta-client.ts";

export { Change, changed };

/** Resolves once the change is told (on the bus): the caller answers after it (see publishers' told). */
export type OnChange = (ownerId: string, change: Change, file: File, op: FileOp) => void | Promise<void>;

export interface FileDeps {
  meta: MetaClient;
  /** Told about every change this service makes once meta committed it (the event bus: WatchFiles, caches). */
  onChange?: OnChange;
  /** Told about content whose last reference a purge dropped (the event bus: topic "blobs"). */
  onUnreferenced?: OnUnreferenced;
}

export type OnUnreferenced = (sha256s: readonly string[]) => void;

type ListRequest = Pick<
  Required<MessageInitShape<typeof ListFilesRequestSchema>>,
  "parentId" | "pageSize" | "pageToken" | "sort" | "descending" | "allFolders" | "sha1"
>;

export const SORT_KEYS: Record<SortField, string> = {
  [SortField.UNSPECIFIED]: "name",
  [SortField.NAME]: "name",
  [SortField.SIZE]: "size",
  [SortField.UPDATED_AT]: "updated_at",
};

async function changed(
  deps: FileDeps,
  who: Identity,
  change: Change,
  record: FileRecord | undefined,
  op: FileOp,
): Promise<File> {
  if (!record) throw new Error("meta returned no file");
  const file = publicFile(record);
  await deps.onChange?.(who.userId, change, file, op);
  return file;
}

export async function listFiles(deps: FileDeps, who: Identity, req: ListRequest) {
  const sort = SORT_KEYS[req.sort];
  if (!sort)
    throw invalidArgument("sort must be one of SORT_FIELD_NAME, SORT_FIELD_SIZE, SORT_FIELD_UPDATED_AT");
  if (req.pageSize < 0) throw invalidArgument("page_size cannot be negative");
  const res = await deps.meta.listFiles({
    ownerId: who.userId,
    parentId: req.parentId,
    allFolders: req.allFolders,
    sort,
    descending: req.descending,
    pageSize: req.pageSize,
    pageToken: req.pageToken,
    sha1: req.sha1.toLowerCase(),
  });
  return { files: res.files.map((f) => publicFile(f)), nextPageToken: res.nextPageToken };
}

export async function getFile(deps: FileDeps, who: Identity, id: string): Promise<File> {
  if (!id) throw invalidArgument("id is required");
  const res = await deps.meta.getFile({ ownerId: who.userId, id });
  if (!res.file) throw new Error("meta returned no file");
  return publicFile(res.file, res.sha1);
}

/** UNSPECIFIED = FAIL, the default of every RPC (meta applies it). */
export async function createFolder(
  deps: FileDeps,
  who: Identity,
  parentId: string,
  name: string,
  onConflict = ConflictPolicy.UNSPECIFIED,
) {
  const res = await deps.meta.createFolder({ ownerId: who.userId, parentId, name, onConflict });
  return changed(deps, who, Change.CREATED, res.folder, "create");
}

export async function renameFile(deps: FileDeps, who: Identity, id: string, name: string) {
  const res = await deps.meta.renameFile({ ownerId: who.userId, id: required(id), name });
  return changed(deps, who, Change.UPDATED, res.file, "rename");
}

export async function moveFile(
  deps: FileDeps,
  who: Identity,
  id: string,
  newParentId: string,
  onConflict = ConflictPolicy.UNSPECIFIED,
) {
  const res = await deps.meta.moveFile({ ownerId: who.userId, id: required(id), newParentId, onConflict });
  // REPLACE answers the file it replaced (the moved entry is gone).
  if (res.file && res.file.id !== id) {
    await deps.onChange?.(who.userId, Change.DELETED, { ...publicFile(res.file), id }, "move");
    return changed(deps, who, Change.UPDATED, res.file, "move");
  }
  return changed(deps, who, Change.UPDATED, res.file, "move");
}

export async function deleteFile(deps: FileDeps, who: Identity, id: string): Promise<void> {
  const res = await deps.meta.trashFile({ ownerId: who.userId, id: required(id) });
  if (res.count > 0) await changed(deps, who, Change.DELETED, res.file, "delete");
}

export async function listTrash(deps: FileDeps, who: Identity, req: { pageSize: number; pageToken: string }) {
  if (req.pageSize < 0) throw invalidArgument("page_size cannot be negative");
  const res = await deps.meta.listTrash({ ownerId: who.userId, ...req });
  const files = res.files.map((f) => publicFile(f));
  const entries = files.map((file) => ({ file, originalPath: res.originalPaths[file.id] ?? "" }));
  return { files, nextPageToken: res.nextPageToken, entries };
}

export async function restoreFile(
  deps: FileDeps,
  who: Identity,
  id: string,
  onConflict = ConflictPolicy.UNSPECIFIED,
) {
  const res = await deps.meta.restoreFile({ ownerId: who.userId, id: required(id), onConflict });
  // REPLACE answers the file it replaced, which was updated rather than created.
  const change = res.file && res.file.id !== id ? Change.UPDATED : Change.CREATED;
  return changed(deps, who, change, res.file, "restore");
}

/** Purges the caller's trash; each entry that leaves it is reported (DELETED), as PurgeFile does. */
export async function emptyTrash(deps: FileDeps, who: Identity): Promise<number> {
  const res = await deps.meta.emptyTrash({ ownerId: who.userId });
  // Published in order (each call publishes at once), then waited for together.
  await Promise.all(res.files.map((f) => changed(deps, who, Change.DELETED, f, "purge")));
  deps.onUnreferenced?.(res.unreferencedSha256s);
  return res.count;
}

export async function purgeFile(deps: FileDeps, who: Identity, id: string): Promise<void> {
  const res = await deps.meta.purgeTrashedFile({ ownerId: who.userId, id: required(id) });
  await changed(deps, who, Change.DELETED, res.file, "purge");
  deps.onUnreferenced?.(res.unreferencedSha256s);
}

function required(id: string): string {
  if (!id) throw invalidArgument("id is required");
  return id;
}
