// The shape of an owner's folder tree: how deep a folder sits, how tall a subtree is, and moving a whole
// subtree to the trash. Callers hold the owner's lock (content.lockOwner), so the tree stays as walked.
//
// Depth counts folders: a folder in the root is at depth 1, a folder inside it at depth 2, and so on. A
// file adds no level, so a file may sit in a folder at the maximum depth. Walks run in JavaScript, one
// level per query (parent ids in batches), rather than as recursive SQL, whose iteration cap is a server
// setting (MariaDB's max_recursive_iterations) that could cut a walk short without an error. Walks that
// only decide whether a bound is exceeded stop one level past it; walks that change rows visit every row.
import type { Db } from "./db/database.ts";

export const DEFAULT_MAX_FOLDER_DEPTH = 256;

/** The change would nest folders deeper than the configured maximum (MAX_FOLDER_DEPTH). */
export class FolderDepthError extends Error {
  constructor(readonly maxDepth: number) {
    super(`folders can be nested at most ${maxDepth} levels deep: choose a folder higher up the tree`);
  }
}

/** Ids per IN (...) list. */
const CHUNK = 500;

const chunks = <T>(xs: T[]): T[][] =>
  Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));

/**
 * The folder ids from folderId up towards the root, folderId first: its depth when the chain reaches the
 * root. At most `limit + 1` ids, so a deeper chain (or a corrupted cycle) ends there, longer than limit.
 */
export async function ancestors(tx: Db, ownerId: string, folderId: string, limit: number): Promise<string[]> {
  const chain: string[] = [];
  for (let at = folderId; at !== "" && chain.length <= limit; ) {
    chain.push(at);
    const up = await tx
      .selectFrom("files")
      .select("parent_id")
      .where("id", "=", at)
      .where("owner_id", "=", ownerId)
      .executeTakeFirst();
    at = up?.parent_id ?? "";
  }
  return chain;
}

/** Which rows make up a subtree: the active one under a folder, or the rows trashed with a trash entry. */
export type SubtreeScope = "active" | { trashedWith: string };

/** What is being placed into a folder: a file, a new empty folder, or an existing folder with its subtree. */
export type Placed =
  | { kind: "file" }
  /** ownerId: whose subtree id is, when not the target folder's owner's (save a share to one's drive). */
  | { kind: "folder"; id?: string; scope?: SubtreeScope; ownerId?: string };

/**
 * Folder levels of the subtree at folder rootId, the folder included (1: no subfolders), counting at most
 * `limit + 1`: a taller subtree answers limit + 1.
 */
async function subtreeHeight(
  tx: Db,
  ownerId: string,
  rootId: string,
  scope: SubtreeScope,
  limit: number,
): Promise<number> {
  let height = 1;
  for (let level = [rootId]; height <= limit; height++) {
    const next: string[] = [];
    for (const part of chunks(level)) {
      let q = tx
        .selectFrom("files")
        .select("id")
        .where("owner_id", "=", ownerId)
        .where("kind", "=", "folder")
        .where("parent_id", "in", part);
      q =
        scope === "active"
          ? q.where("status", "=", "active")
          : q.where("trashed_with", "=", scope.trashedWith);
      for (const r of await q.execute()) next.push(r.id);
    }
    if (next.length === 0) return height;
    level = next;
  }
  return height;
}

/**
 * Refuses (FolderDepthError) to place `placed` into parentId ("" = the root) when a folder would end up
 * deeper than maxDepth. Every way an entry lands in a folder goes through here: create, move, restore
 * (and copy). A file never makes the tree deeper, so it is always allowed.
 */
export async function requireDepthRoom(
  tx: Db,
  ownerId: string,
  parentId: string,
  placed: Placed,
  maxDepth: number,
): Promise<void> {
  if (placed.kind === "file") return;
  const depth = parentId === "" ? 0 : (await ancestors(tx, ownerId, parentId, maxDepth)).length;
  const room = maxDepth - depth;
  if (room < 1) throw new FolderDepthError(maxDepth);
  const height = placed.id
    ? await subtreeHeight(tx, placed.ownerId ?? ownerId, placed.id, placed.scope ?? "active", room)
    : 1;
  if (height > room) throw new FolderDepthError(maxDepth);
}

/**
 * Moves the active entry rootId and its whole active subtree to the trash, marked as belonging to the
 * trash entry `trashedWith`; returns how many rows it moved. Level by level, each row once (a moved row
 * is no longer active, so even a corrupted cycle ends): nothing stays behind, however deep.
 */
export async function trashSubtree(
  tx: Db,
  ownerId: string,
  rootId: string,
  mark: { trashedWith: string; deletedAt: number },
): Promise<number> {
  const set = { status: "trashed" as const, deleted_at: mark.deletedAt, trashed_with: mark.trashedWith };
  const root = await tx
    .updateTable("files")
    .set(set)
    .where("owner_id", "=", ownerId)
    .where("id", "=", rootId)
    .where("status", "=", "active")
    .executeTakeFirst();
  let count = Number(root.numUpdatedRows);
  for (let level = count > 0 ? [rootId] : []; level.length > 0; ) {
    const next: string[] = [];
    for (const part of chunks(level)) {
      const folders = await tx
        .selectFrom("files")
        .select("id")
        .where("owner_id", "=", ownerId)
        .where("status", "=", "active")
        .where("kind", "=", "folder")
        .where("parent_id", "in", part)
        .execute();
      const moved = await tx
        .updateTable("files")
        .set(set)
        .where("owner_id", "=", ownerId)
        .where("status", "=", "active")
        .where("parent_id", "in", part)
        .executeTakeFirst();
      count += Number(moved.numUpdatedRows);
      for (const f of folders) next.push(f.id);
    }
    level = next;
  }
  return count;
}
