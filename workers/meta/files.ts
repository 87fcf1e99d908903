// File management on the files table: folders, rename and move, and what listing.ts and trash.ts build
// on (the errors, reading entries, the owner's transaction). Every query is scoped by owner_id, and every
// change runs in one transaction that first takes the owner's lock (content.lockOwner), so "the folder is
// active" and "the name is free" hold until commit.
//
// Names: checkFileName (workers/lib/names.ts), then placed in the target folder under a conflict policy
// (names.ts: one active entry per name in a folder, held by a unique index).
// Depth: folders nest at most maxDepth levels (MAX_FOLDER_DEPTH; see tree.ts for what counts), checked
// wherever a folder can get deeper: create, move and restore.

import { checkFileName } from "../lib/names.ts";
import { FileNotFoundError, type FileRow, lockOwner, requireFolder } from "./content.ts";
import type { Db } from "./db/database.ts";
import { transact } from "./db/transact.ts";
import { indexNames, insertGrams, nameKey } from "./name-index.ts";
import { ConflictPolicy, withPlacedName } from "./names.ts";
import { ancestors, DEFAULT_MAX_FOLDER_DEPTH, requireDepthRoom } from "./tree.ts";
import { DEFAULT_VERSIONS_KEEP, replaceWithEntry } from "./versions.ts";

export { FileNotFoundError, FolderNotFoundError } from "./content.ts";
export { ConflictPolicy, NameTakenError } from "./names.ts";
export { DEFAULT_MAX_FOLDER_DEPTH, FolderDepthError } from "./tree.ts";

export class InvalidNameError extends Error {}
export class InvalidCursorError extends Error {}
/** The entry is in the trash (for changes of active entries) or not (for restore and purge). */
export class TrashStateError extends Error {}
/** A folder cannot move into itself or its own subtree. */
export class InvalidMoveError extends Error {}

export type ListedFile = FileRow & { sha1: string };

/** How an entry lands on a taken name (default FAIL), and how many versions a replaced file keeps. */
export interface PlaceOptions {
  onConflict?: ConflictPolicy;
  versionsKeep?: number;
}
export const keepOf = (o: PlaceOptions) => o.versionsKeep ?? DEFAULT_VERSIONS_KEEP;

function validName(raw: string): string {
  const checked = checkFileName(raw);
  if ("error" in checked) throw new InvalidNameError(checked.error);
  return checked.name;
}

/** A row as read (numbers from MySQL may come as strings), with its content's SHA-1 ("" for none). */
export const num = (r: FileRow & { sha1: string | null }): ListedFile => ({
  ...r,
  size: Number(r.size),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  deleted_at: r.deleted_at === null ? null : Number(r.deleted_at),
  sha1: r.sha1 ?? "",
});

/** Files with their content's SHA-1. */
export const listed = (db: Db) =>
  db
    .selectFrom("files")
    .leftJoin("blobs", "blobs.sha256", "files.blob_sha256")
    .selectAll("files")
    .select("blobs.sha1");

/** A transaction holding the owner's lock (see lockOwner): the owner's tree stays as checked until commit. */
export function ownerTransaction<T>(db: Db, ownerId: string, fn: (tx: Db) => Promise<T>): Promise<T> {
  return transact(db, async (tx) => {
    await lockOwner(tx, ownerId);
    return fn(tx);
  });
}
/** The owner's entry; FileNotFoundError when it is absent or someone else's (no difference visible). */
export async function entry(tx: Db, ownerId: string, id: string): Promise<ListedFile> {
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
  f: { ownerId: string; parentId: string; name: string; onConflict?: ConflictPolicy },
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
): Promise<ListedFile> {
  const name = validName(f.name);
  const policy = f.onConflict ?? ConflictPolicy.FAIL;
  return ownerTransaction(db, f.ownerId, async (tx) => {
    await requireFolder(tx, f.ownerId, f.parentId);
    await requireDepthRoom(tx, f.ownerId, f.parentId, { kind: "folder" }, maxDepth);
    return withPlacedName(tx, { ...f, name, kind: "folder" }, policy, async (p) => {
      const row = folderRow({ ownerId: f.ownerId, parentId: f.parentId, name: p.name }, now);
      // Indexed for search as it is written (rows written elsewhere without a key are indexed lazily).
      const keyed = { ...row, name_key: nameKey(row.name) };
      await tx.insertInto("files").values(keyed).execute();
      await insertGrams(tx, [keyed]);
      return { ...row, sha1: "" };
    });
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
    const target = { ownerId, parentId: row.parent_id, name, kind: row.kind, self: id };
    return withPlacedName(tx, target, ConflictPolicy.FAIL, async () => {
      await tx.updateTable("files").set({ name, updated_at: now }).where("id", "=", id).execute();
      await indexNames(tx, [{ ...row, name }]);
      return { ...row, name, updated_at: now };
    });
  });
}

export async function moveFile(
  db: Db,
  ownerId: string,
  id: string,
  newParentId: string,
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
  opts: PlaceOptions = {},
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
    const target = { ownerId, parentId: newParentId, name: row.name, kind: row.kind, self: id };
    return withPlacedName(tx, target, opts.onConflict ?? ConflictPolicy.FAIL, async (p) => {
      if (p.replaces) return replaceWithEntry(tx, ownerId, p.replaces.id, row, now, keepOf(opts));
      await tx
        .updateTable("files")
        .set({ parent_id: newParentId, name: p.name, updated_at: now })
        .where("id", "=", id)
        .execute();
      // A rename under on_conflict RENAME changes the name search knows it by.
      if (p.name !== row.name) await indexNames(tx, [{ ...row, name: p.name }]);
      return { ...row, parent_id: newParentId, name: p.name, updated_at: now };
    });
  });
}
