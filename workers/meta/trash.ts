// The trash: a deleted entry gets status "trashed", deleted_at and trashed_with = its own id; a folder takes
// its active subtree along (trashed_with = the folder's id), so restore and purge act on exactly what went
// together. Entries trashed earlier on their own keep their own trash entry. A folder's subtree moves in
// short batches after the folder itself (subtree-moves.ts); a file is one transaction.

import { dropFileRow } from "./content.ts";
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
import { placeName, withPlacedName } from "./names.ts";
import {
  type BatchOptions,
  beginSubtreeMove,
  finishSubtreeMove,
  restoredRow,
  restoreTarget,
} from "./subtree-moves.ts";
import { DEFAULT_MAX_FOLDER_DEPTH, requireDepthRoom } from "./tree.ts";
import { replaceWithEntry } from "./versions.ts";

/**
 * Moves an active entry (and a folder's active subtree) to the trash; an entry in the trash stays as it is.
 * A folder is marked at once and its subtree follows in short batches (subtree-moves.ts).
 */
export async function trashFile(
  db: Db,
  ownerId: string,
  id: string,
  now: number,
  batches: BatchOptions = {},
): Promise<{ file: ListedFile; count: number }> {
  // A move of this entry still running (cut short by a crash) ends first.
  await finishSubtreeMove(db, ownerId, id, batches);
  const marked = await ownerTransaction(db, ownerId, async (tx) => {
    const row = await entry(tx, ownerId, id);
    if (row.status === "trashed") return { file: row, count: 0 };
    await tx
      .updateTable("files")
      .set({ status: "trashed", deleted_at: now, trashed_with: id })
      .where("id", "=", id)
      .execute();
    if (row.kind === "folder") await beginSubtreeMove(tx, { rootId: id, ownerId, op: "trash", at: now });
    return { file: { ...row, status: "trashed" as const, deleted_at: now, trashed_with: id }, count: 1 };
  });
  if (marked.count === 0 || marked.file.kind !== "folder") return marked;
  const rest = await finishSubtreeMove(db, ownerId, id, batches);
  return { file: marked.file, count: marked.count + rest.count };
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
  batches: BatchOptions = {},
): Promise<ListedFile> {
  // A trash of this entry still running ends first (and a restore still running ends: then it is back).
  const earlier = await finishSubtreeMove(db, ownerId, id, batches);
  if (earlier.restored) return earlier.restored;
  const policy = opts.onConflict ?? ConflictPolicy.FAIL;
  const placed = await ownerTransaction(db, ownerId, async (tx) => {
    const row = await trashEntry(tx, ownerId, id);
    const parentId = await restoreTarget(tx, ownerId, row.parent_id);
    await requireDepthRoom(
      tx,
      ownerId,
      parentId,
      { kind: row.kind, id, scope: { trashedWith: id } },
      maxDepth,
    );
    if (row.kind === "folder") {
      // The name is checked now (a clash answers at once); the folder takes it after its subtree is back.
      await placeName(tx, ownerId, parentId, row.name, policy, row.kind);
      await beginSubtreeMove(tx, { rootId: id, ownerId, op: "restore", at: now, parentId, policy });
      return undefined;
    }
    const target = { ownerId, parentId, name: row.name, kind: row.kind };
    return withPlacedName(tx, target, policy, async (p) => {
      if (p.replaces) return replaceWithEntry(tx, ownerId, p.replaces.id, row, now, keepOf(opts));
      await tx
        .updateTable("files")
        .set(restoredRow({ parentId, name: p.name }, now))
        .where("id", "=", id)
        .execute();
      // A rename under on_conflict RENAME changes the name search knows it by.
      if (p.name !== row.name) await indexNames(tx, [{ ...row, name: p.name }]);
      return { ...row, ...restoredRow({ parentId, name: p.name }, now) };
    });
  });
  if (placed) return placed;
  const done = await finishSubtreeMove(db, ownerId, id, batches);
  // Stopped early (tests) or finished by another run meanwhile: the folder as it stands.
  return done.restored ?? entry(db, ownerId, id);
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
  await finishSubtreeMove(db, ownerId, id);
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
