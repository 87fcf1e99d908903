// The trash: a deleted entry gets status "trashed", deleted_at and trashed_with = its own id; a folder takes
// its active subtree along (trashed_with = the folder's id), so restore and purge act on exactly what went
// together. Entries trashed earlier on their own keep their own trash entry.

import { dropFileRow, FolderNotFoundError, requireFolder } from "./content.ts";
import type { Db } from "./db/database.ts";
import {
  ConflictPolicy,
  entry,
  keepOf,
  type ListedFile,
  ownerTransaction,
  type PlaceOptions,
  TrashStateError,
} from "./files.ts";
import { indexNames } from "./name-index.ts";
import { withPlacedName } from "./names.ts";
import { DEFAULT_MAX_FOLDER_DEPTH, requireDepthRoom, trashSubtree } from "./tree.ts";
import { replaceWithEntry } from "./versions.ts";

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
 * still active, else into the root. A taken name there is handled by opts.onConflict (default FAIL:
 * NameTakenError; RENAME: "name (n).ext"; REPLACE, a file only: the active file gains it as a version);
 * FolderDepthError when the restored folders would nest deeper than maxDepth there.
 */
export async function restoreFile(
  db: Db,
  ownerId: string,
  id: string,
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
  opts: PlaceOptions = {},
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
    const target = { ownerId, parentId, name: row.name, kind: row.kind };
    return withPlacedName(tx, target, opts.onConflict ?? ConflictPolicy.FAIL, async (p) => {
      if (p.replaces) return replaceWithEntry(tx, ownerId, p.replaces.id, row, now, keepOf(opts));
      // The root first: the statement that claims the name, undone alone if the name was taken meanwhile.
      await tx
        .updateTable("files")
        .set({
          status: "active",
          deleted_at: null,
          trashed_with: null,
          parent_id: parentId,
          name: p.name,
          updated_at: now,
        })
        .where("id", "=", id)
        .execute();
      // A rename under on_conflict RENAME changes the name search knows it by.
      if (p.name !== row.name) await indexNames(tx, [{ ...row, name: p.name }]);
      await tx
        .updateTable("files")
        .set({ status: "active", deleted_at: null, trashed_with: null })
        .where("owner_id", "=", ownerId)
        .where("trashed_with", "=", id)
        .execute();
      return {
        ...row,
        parent_id: parentId,
        name: p.name,
        status: "active" as const,
        deleted_at: null,
        trashed_with: null,
        updated_at: now,
      };
    });
  });
}

/**
 * Removes a trash entry and what was trashed with it for good, dropping each content reference; answers
 * the content whose last reference went.
 */
export async function purgeTrashed(
  db: Db,
  ownerId: string,
  id: string,
  now: number,
): Promise<{ file: ListedFile; count: number; unreferenced: string[] }> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await trashEntry(tx, ownerId, id);
    const rows = await tx
      .selectFrom("files")
      .select("id")
      .where("owner_id", "=", ownerId)
      .where("trashed_with", "=", id)
      .execute();
    // The content whose last reference went with these rows (each once).
    const unreferenced = new Set<string>();
    for (const r of rows)
      for (const sha256 of (await dropFileRow(tx, ownerId, r.id, now)) ?? []) unreferenced.add(sha256);
    return { file: row, count: rows.length, unreferenced: [...unreferenced] };
  });
}
