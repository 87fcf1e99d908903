// The trash beyond single entries: where each entry came from (its former folder as a path), emptying an
// owner's trash, and purging entries older than the retention (TRASH_RETENTION_DAYS, driven by the file
// worker's periodic pass). Each entry is purged in its own transaction (purgeTrashed), so a long trash
// never holds one big lock, and what is done stays done if a later entry fails.
import type { Db } from "./db/database.ts";
import { FileNotFoundError, type ListedFile, TrashStateError } from "./files.ts";
import { purgeTrashed } from "./trash.ts";
import { ancestors, DEFAULT_MAX_FOLDER_DEPTH } from "./tree.ts";

/**
 * The path of the owner's folder folderId ("/" for the root, "/docs/2024"), or "" when it is not an active
 * folder reachable from the root (restore then brings an entry back into the root).
 */
export async function folderPath(db: Db, ownerId: string, folderId: string): Promise<string> {
  if (folderId === "") return "/";
  const chain = await ancestors(db, ownerId, folderId, DEFAULT_MAX_FOLDER_DEPTH);
  const rows = await db
    .selectFrom("files")
    .select(["id", "name", "parent_id", "kind", "status"])
    .where("owner_id", "=", ownerId)
    .where("id", "in", chain)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const names: string[] = [];
  for (const id of chain) {
    const r = byId.get(id);
    if (r?.kind !== "folder" || r.status !== "active") return "";
    names.push(r.name);
  }
  const top = byId.get(chain.at(-1) as string);
  if (top?.parent_id !== "") return "";
  return `/${names.reverse().join("/")}`;
}

/** Each entry's former folder as a path (see folderPath), by entry id. */
export async function originalPaths(
  db: Db,
  ownerId: string,
  entries: readonly { id: string; parent_id: string }[],
): Promise<Record<string, string>> {
  const byFolder = new Map<string, string>();
  const out: Record<string, string> = {};
  for (const e of entries) {
    let path = byFolder.get(e.parent_id);
    if (path === undefined) {
      path = await folderPath(db, ownerId, e.parent_id);
      byFolder.set(e.parent_id, path);
    }
    out[e.id] = path;
  }
  return out;
}

/** What a purge of many entries did: the entries purged (as they were) and the content left unreferenced. */
export interface Purged {
  files: ListedFile[];
  /** Content whose last reference these purges dropped (each once). */
  unreferenced: string[];
}

/** Purges one trash entry into `into`; nothing when it is gone or back already (a concurrent restore or purge). */
async function purgeIfTrashed(db: Db, ownerId: string, id: string, now: number, into: Purged): Promise<void> {
  try {
    const res = await purgeTrashed(db, ownerId, id, now);
    into.files.push(res.file);
    for (const sha256 of res.unreferenced)
      if (!into.unreferenced.includes(sha256)) into.unreferenced.push(sha256);
  } catch (err) {
    if (err instanceof TrashStateError || err instanceof FileNotFoundError) return;
    throw err;
  }
}

/** Purges every trash entry of the owner (with what was trashed along). */
export async function emptyTrash(db: Db, ownerId: string, now: number): Promise<Purged> {
  const purged: Purged = { files: [], unreferenced: [] };
  for (;;) {
    const batch = await db
      .selectFrom("files")
      .select("id")
      .where("owner_id", "=", ownerId)
      .where("status", "=", "trashed")
      .whereRef("trashed_with", "=", "id")
      .limit(500)
      .execute();
    const before = purged.files.length;
    for (const e of batch) await purgeIfTrashed(db, ownerId, e.id, now, purged);
    if (batch.length < 500 || purged.files.length === before) return purged;
  }
}

/** Purges up to `limit` trash entries of any owner deleted before `deletedBefore` (ms), oldest first. */
export async function purgeExpiredTrash(
  db: Db,
  deletedBefore: number,
  limit: number,
  now: number,
): Promise<Purged> {
  const expired = await db
    .selectFrom("files")
    .select(["id", "owner_id"])
    .where("status", "=", "trashed")
    .where("deleted_at", "<", deletedBefore)
    .whereRef("trashed_with", "=", "id")
    .orderBy("deleted_at")
    .limit(limit)
    .execute();
  const purged: Purged = { files: [], unreferenced: [] };
  for (const e of expired) await purgeIfTrashed(db, e.owner_id, e.id, now, purged);
  return purged;
}
