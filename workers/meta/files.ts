// File management on the files table: folders, listing with keyset paging, rename, move, trash, restore
// and purge. Every query is scoped by owner_id, and every change runs in one transaction that first takes
// the owner's lock (content.lockOwner), so "the folder is active" and "the name is free" hold until commit.
//
// Names: checkFileName (workers/lib/names.ts), and free among the target folder's active entries
// (NameTakenError); uploads, which never overwrite, may still add same-named files.
// Trash: a deleted entry gets status "trashed", deleted_at and trashed_with = its own id; a folder takes
// its active subtree along (trashed_with = the folder's id), so restore and purge act on exactly what
// went together. Entries trashed earlier on their own keep their own trash entry.
// Depth: folders nest at most maxDepth levels (MAX_FOLDER_DEPTH; see tree.ts for what counts), checked
// wherever a folder can get deeper: create, move and restore.
import type { Db } from "../lib/db/database.ts";
import type { FileKind } from "../lib/db/schema.ts";
import { transact } from "../lib/db/transact.ts";
import { checkFileName } from "../lib/names.ts";
import { pageSize } from "../lib/validate.ts";
import {
  dropFileRow,
  FileNotFoundError,
  type FileRow,
  FolderNotFoundError,
  lockOwner,
  requireFolder,
} from "./content.ts";
import { ancestors, DEFAULT_MAX_FOLDER_DEPTH, requireDepthRoom, trashSubtree } from "./tree.ts";

export { FileNotFoundError, FolderNotFoundError } from "./content.ts";
export { DEFAULT_MAX_FOLDER_DEPTH, FolderDepthError } from "./tree.ts";

export class InvalidNameError extends Error {}
export class InvalidCursorError extends Error {}
/** An active entry of that name already sits in the target folder. */
export class NameTakenError extends Error {
  constructor(
    readonly taken: string,
    readonly parentId: string,
  ) {
    super(`an active entry named "${taken}" already exists in that folder`);
  }
}
/** The entry is in the trash (for changes of active entries) or not (for restore and purge). */
export class TrashStateError extends Error {}
/** A folder cannot move into itself or its own subtree. */
export class InvalidMoveError extends Error {}

export type ListedFile = FileRow & { sha1: string };
export type SortKey = "name" | "size" | "updated_at";

function validName(raw: string): string {
  const checked = checkFileName(raw);
  if ("error" in checked) throw new InvalidNameError(checked.error);
  return checked.name;
}

export function pageSizeOf(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) throw new InvalidCursorError("page_size must be >= 0");
  return pageSize(requested);
}

// Cursors: base64url JSON of the query they belong to (q) and the last row's sort key (k).
function encodeCursor(q: string, k: (string | number)[]): string {
  return Buffer.from(JSON.stringify({ q, k })).toString("base64url");
}

function decodeCursor(token: string, q: string, types: string[]): (string | number)[] {
  let parsed: { q?: unknown; k?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError("page_token is not a token this service issued");
  }
  const k = parsed?.k;
  if (
    parsed?.q !== q ||
    !Array.isArray(k) ||
    k.length !== types.length ||
    k.some((v, i) => typeof v !== types[i])
  ) {
    throw new InvalidCursorError("page_token belongs to another listing (folder or sort order changed)");
  }
  return k;
}

const num = (r: FileRow & { sha1: string | null }): ListedFile => ({
  ...r,
  size: Number(r.size),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  deleted_at: r.deleted_at === null ? null : Number(r.deleted_at),
  sha1: r.sha1 ?? "",
});

const listed = (db: Db) =>
  db
    .selectFrom("files")
    .leftJoin("blobs", "blobs.sha256", "files.blob_sha256")
    .selectAll("files")
    .select("blobs.sha1");

export interface ListOptions {
  ownerId: string;
  /** "" for the root. */
  parentId: string;
  /** Every active file of the owner, in any folder (parentId must be ""). */
  allFolders?: boolean;
  sort?: SortKey;
  descending?: boolean;
  /** 0 means DEFAULT_PAGE_SIZE; capped at MAX_PAGE_SIZE (lib/validate.ts). */
  pageSize?: number;
  pageToken?: string;
  /** Only files whose content has this SHA-1. */
  sha1?: string;
}

/** The last row of a page: where the next one starts. */
interface ListCursor {
  kind: FileKind;
  key: string | number;
  id: string;
}

/**
 * One page of active entries: folders first, then by the sort key, ties broken by id, each in the
 * requested direction. The cursor is the last row's (kind, key, id), so rows inserted meanwhile never
 * shift later pages.
 */
export async function listFiles(
  db: Db,
  o: ListOptions,
): Promise<{ files: ListedFile[]; nextPageToken: string }> {
  const sort = o.sort ?? "name";
  const size = pageSizeOf(o.pageSize ?? 0);
  if (o.allFolders && o.parentId !== "")
    throw new InvalidCursorError("all_folders lists every folder: leave parent_id empty");
  if (!o.allFolders) await requireFolder(db, o.ownerId, o.parentId);
  const q = JSON.stringify([o.allFolders ? "*" : o.parentId, sort, o.descending ?? false, o.sha1 ?? ""]);
  let cursor: ListCursor | undefined;
  if (o.pageToken) {
    const [kind, key, id] = decodeCursor(o.pageToken, q, [
      "string",
      sort === "name" ? "string" : "number",
      "string",
    ]);
    cursor = { kind: kind as FileKind, key: key as string | number, id: id as string };
  }
  // Folders, then files: one query per kind, each an in-order range of one index (see migration 0007).
  // Folders hold no content, so a listing by SHA-1 has none. Every folder sorts before every file.
  const kinds: FileKind[] = o.allFolders || o.sha1 ? ["file"] : ["folder", "file"];
  const from = cursor ? kinds.indexOf(cursor.kind) : 0;
  if (from < 0) throw new InvalidCursorError("page_token is not a token this service issued");
  const rows: ListedFile[] = [];
  for (const kind of kinds.slice(from)) {
    const after = cursor?.kind === kind ? cursor : undefined;
    rows.push(...(await listKind(db, o, kind, after, size + 1 - rows.length)));
    if (rows.length > size) break;
  }
  const files = rows.slice(0, size);
  const last = files.at(-1);
  const nextPageToken = rows.length > size && last ? encodeCursor(q, [last.kind, last[sort], last.id]) : "";
  return { files, nextPageToken };
}

/**
 * Up to `limit` active entries of one kind, in listing order, after the cursor's row: those with the
 * cursor's key and a later id, then those with a later key. Each is one plain range of the kind's index in
 * order; written as one query, the OR of the two made MariaDB merge indexes and sort.
 */
async function listKind(
  db: Db,
  o: ListOptions,
  kind: FileKind,
  after: ListCursor | undefined,
  limit: number,
): Promise<ListedFile[]> {
  const col = `files.${o.sort ?? "name"}` as const;
  const dir = o.descending ? "desc" : "asc";
  const past = o.descending ? "<" : ">";
  let query = listed(db)
    .where("files.owner_id", "=", o.ownerId)
    .where("files.status", "=", "active")
    .where("files.kind", "=", kind);
  if (!o.allFolders) query = query.where("files.parent_id", "=", o.parentId);
  if (o.sha1) query = query.where("blobs.sha1", "=", o.sha1);
  const page = async (q: typeof query, n: number) =>
    (await q.orderBy("files.id", dir).limit(n).execute()).map(num);
  if (!after) return page(query.orderBy(col, dir), limit);
  const key = after.key as never;
  // The key is fixed here: ordering by id alone lets MariaDB see that the index range is in order.
  const tail = await page(query.where(col, "=", key).where("files.id", past, after.id), limit);
  if (tail.length >= limit) return tail;
  return [...tail, ...(await page(query.where(col, past, key).orderBy(col, dir), limit - tail.length))];
}

/** One page of the owner's trash entries (not the subtrees trashed with them), most recent first. */
export async function listTrash(
  db: Db,
  o: { ownerId: string; pageSize?: number; pageToken?: string },
): Promise<{ files: ListedFile[]; nextPageToken: string }> {
  const size = pageSizeOf(o.pageSize ?? 0);
  let query = listed(db)
    .where("files.owner_id", "=", o.ownerId)
    .where("files.status", "=", "trashed")
    .whereRef("files.trashed_with", "=", "files.id");
  if (o.pageToken) {
    const [at, id] = decodeCursor(o.pageToken, "trash", ["number", "string"]);
    query = query.where((eb) =>
      eb.or([
        eb("files.deleted_at", "<", at as number),
        eb.and([eb("files.deleted_at", "=", at as number), eb("files.id", "<", id as string)]),
      ]),
    );
  }
  const rows = (
    await query
      .orderBy("files.deleted_at", "desc")
      .orderBy("files.id", "desc")
      .limit(size + 1)
      .execute()
  ).map(num);
  const files = rows.slice(0, size);
  const last = files.at(-1);
  const nextPageToken =
    rows.length > size && last ? encodeCursor("trash", [last.deleted_at ?? 0, last.id]) : "";
  return { files, nextPageToken };
}

/** A transaction holding the owner's lock (see lockOwner): the owner's tree stays as checked until commit. */
export function ownerTransaction<T>(db: Db, ownerId: string, fn: (tx: Db) => Promise<T>): Promise<T> {
  return transact(db, async (tx) => {
    await lockOwner(tx, ownerId);
    return fn(tx);
  });
}
/** The owner's entry; FileNotFoundError when it is absent or someone else's (no difference visible). */
async function entry(tx: Db, ownerId: string, id: string): Promise<ListedFile> {
  const row = await listed(tx)
    .where("files.id", "=", id)
    .where("files.owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new FileNotFoundError(id);
  return num(row);
}

async function activeEntry(tx: Db, ownerId: string, id: string): Promise<ListedFile> {
  const row = await entry(tx, ownerId, id);
  if (row.status !== "active") throw new TrashStateError("this entry is in the trash: restore it first");
  return row;
}

async function requireFreeName(tx: Db, ownerId: string, parentId: string, name: string): Promise<void> {
  const clash = await tx
    .selectFrom("files")
    .select("id")
    .where("owner_id", "=", ownerId)
    .where("parent_id", "=", parentId)
    .where("status", "=", "active")
    .where("name", "=", name)
    .executeTakeFirst();
  if (clash) throw new NameTakenError(name, parentId);
}

/** The row of a new, empty, active folder (the name already checked). */
export function folderRow(f: { ownerId: string; parentId: string; name: string }, now: number): FileRow {
  return {
    id: crypto.randomUUID(),
    owner_id: f.ownerId,
    parent_id: f.parentId,
    name: f.name,
    kind: "folder",
    blob_sha256: null,
    size: 0,
    status: "active",
    created_at: now,
    updated_at: now,
    deleted_at: null,
    trashed_with: null,
  };
}

export async function createFolder(
  db: Db,
  f: { ownerId: string; parentId: string; name: string },
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
): Promise<ListedFile> {
  const name = validName(f.name);
  return ownerTransaction(db, f.ownerId, async (tx) => {
    await requireFolder(tx, f.ownerId, f.parentId);
    await requireDepthRoom(tx, f.ownerId, f.parentId, { kind: "folder" }, maxDepth);
    await requireFreeName(tx, f.ownerId, f.parentId, name);
    const row = folderRow({ ...f, name }, now);
    await tx.insertInto("files").values(row).execute();
    return { ...row, sha1: "" };
  });
}

export async function renameFile(
  db: Db,
  ownerId: string,
  id: string,
  newName: string,
  now: number,
): Promise<ListedFile> {
  const name = validName(newName);
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await activeEntry(tx, ownerId, id);
    if (row.name === name) return row;
    await requireFreeName(tx, ownerId, row.parent_id, name);
    await tx.updateTable("files").set({ name, updated_at: now }).where("id", "=", id).execute();
    return { ...row, name, updated_at: now };
  });
}

export async function moveFile(
  db: Db,
  ownerId: string,
  id: string,
  newParentId: string,
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
): Promise<ListedFile> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await activeEntry(tx, ownerId, id);
    await requireFolder(tx, ownerId, newParentId);
    if (row.parent_id === newParentId) return row;
    // The target's chain up to the root passing through the folder means the target lies in its subtree.
    // A chain cut at maxDepth is too deep for any folder anyway (requireDepthRoom refuses it).
    if (row.kind === "folder" && (await ancestors(tx, ownerId, newParentId, maxDepth)).includes(id))
      throw new InvalidMoveError("a folder cannot be moved into itself or one of its subfolders");
    await requireDepthRoom(tx, ownerId, newParentId, { kind: row.kind, id, scope: "active" }, maxDepth);
    await requireFreeName(tx, ownerId, newParentId, row.name);
    await tx
      .updateTable("files")
      .set({ parent_id: newParentId, updated_at: now })
      .where("id", "=", id)
      .execute();
    return { ...row, parent_id: newParentId, updated_at: now };
  });
}

/** Moves an active entry (and a folder's active subtree) to the trash; an entry in the trash stays as it is. */
export async function trashFile(
  db: Db,
  ownerId: string,
  id: string,
  now: number,
): Promise<{ file: ListedFile; count: number }> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await entry(tx, ownerId, id);
    if (row.status === "trashed") return { file: row, count: 0 };
    const count = await trashSubtree(tx, ownerId, id, { trashedWith: id, deletedAt: now });
    return { file: { ...row, status: "trashed", deleted_at: now, trashed_with: id }, count };
  });
}

/** The owner's trash entry `id` (a row trashed with a folder is not one: restore or purge the folder). */
async function trashEntry(tx: Db, ownerId: string, id: string): Promise<ListedFile> {
  const row = await entry(tx, ownerId, id);
  if (row.status !== "trashed") throw new TrashStateError("this entry is not in the trash");
  if (row.trashed_with !== id) {
    throw new TrashStateError(
      `this entry was deleted together with its folder (id ${row.trashed_with}): restore or purge that folder`,
    );
  }
  return row;
}

/**
 * Restores a trash entry with everything trashed along with it, into its former folder when that is
 * still active, else into the root. NameTakenError when an active entry there has the same name;
 * FolderDepthError when the restored folders would nest deeper than maxDepth there.
 */
export async function restoreFile(
  db: Db,
  ownerId: string,
  id: string,
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
): Promise<ListedFile> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await trashEntry(tx, ownerId, id);
    let parentId = row.parent_id;
    try {
      await requireFolder(tx, ownerId, parentId);
    } catch (err) {
      if (!(err instanceof FolderNotFoundError)) throw err;
      parentId = "";
    }
    await requireDepthRoom(
      tx,
      ownerId,
      parentId,
      { kind: row.kind, id, scope: { trashedWith: id } },
      maxDepth,
    );
    await requireFreeName(tx, ownerId, parentId, row.name);
    await tx
      .updateTable("files")
      .set({ status: "active", deleted_at: null, trashed_with: null })
      .where("owner_id", "=", ownerId)
      .where("trashed_with", "=", id)
      .execute();
    await tx
      .updateTable("files")
      .set({ parent_id: parentId, updated_at: now })
      .where("id", "=", id)
      .execute();
    return {
      ...row,
      parent_id: parentId,
      status: "active",
      deleted_at: null,
      trashed_with: null,
      updated_at: now,
    };
  });
}

/** Removes a trash entry and what was trashed with it for good, dropping each content reference. */
export async function purgeTrashed(
  db: Db,
  ownerId: string,
  id: string,
  now: number,
): Promise<{ file: ListedFile; count: number }> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await trashEntry(tx, ownerId, id);
    const rows = await tx
      .selectFrom("files")
      .select("id")
      .where("owner_id", "=", ownerId)
      .where("trashed_with", "=", id)
      .execute();
    for (const r of rows) await dropFileRow(tx, ownerId, r.id, now);
    return { file: row, count: rows.length };
  });
}
