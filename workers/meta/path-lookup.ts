// Resolving a path of names to the owner's entries (WebDAV's request paths): one lookup per name, each an
// equality on an index of (owner, parent, active name) — files_active_name (migration 0010) on MariaDB,
// it or files_owner_parent (owner, parent, status, name) on SQLite — so a folder of any size costs the same. Names compare exactly as stored: the index is
// binary on MariaDB (active_name is utf8mb4_bin) and SQLite compares text bytewise; the final comparison
// in JavaScript also drops what MariaDB's PAD SPACE comparison lets through ("a" matching "a ").
import { sql } from "kysely";
import type { Db } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import { type ListedFile, listed, num } from "./files.ts";

/** More names than any folder tree may nest (MAX_FOLDER_DEPTH is far below): refused, not walked. */
export const MAX_PATH_NAMES = 1024;

export class PathTooDeepError extends Error {}

/** The active entry of `parentId` ("" = root) called exactly `name`, if any. */
export async function activeChild(
  db: Db,
  ownerId: string,
  parentId: string,
  name: string,
): Promise<ListedFile | undefined> {
  let q = listed(db).where("files.owner_id", "=", ownerId).where("files.parent_id", "=", parentId);
  // MariaDB: the generated column of the unique index (NULL unless active), binary. SQLite: the partial
  // index's own condition, so its planner picks it.
  q = isMysql(db)
    ? q.where(sql.ref("files.active_name"), "=", name)
    : q.where("files.status", "=", "active").where("files.name", "=", name);
  const rows = await q.execute();
  const hit = rows.find((r) => r.name === name);
  return hit ? num(hit) : undefined;
}

/**
 * The entries along `names` from the root, in order, up to the first name that is missing or asked for
 * below a file (the walk stops there: a file has no children). All were found when the result is as long
 * as `names`.
 */
export async function resolvePath(db: Db, ownerId: string, names: readonly string[]): Promise<ListedFile[]> {
  if (names.length > MAX_PATH_NAMES) throw new PathTooDeepError(`a path has at most ${MAX_PATH_NAMES} names`);
  const found: ListedFile[] = [];
  let parentId = "";
  for (const name of names) {
    const prev = found.at(-1);
    if (prev && prev.kind !== "folder") break;
    const hit = name === "" ? undefined : await activeChild(db, ownerId, parentId, name);
    if (!hit) break;
    found.push(hit);
    parentId = hit.id;
  }
  return found;
}
