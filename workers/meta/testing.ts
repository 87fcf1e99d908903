// Test helper: folder trees written straight into the files table, as deep as a test needs and far faster
// than one CreateFolder per level (and deeper than the API allows, like trees made before the limit).
import type { Db } from "../lib/db/database.ts";
import type { FileRow } from "./content.ts";
import { folderRow } from "./files.ts";

/**
 * A chain of `levels` active folders under parentId ("" = root), each inside the previous, named
 * "<tag>-<level>" with a tag of its own (chains never clash by name); their ids, top first.
 */
export async function insertFolderChain(
  db: Db,
  ownerId: string,
  parentId: string,
  levels: number,
  now = 1,
): Promise<string[]> {
  const tag = crypto.randomUUID().slice(0, 8);
  const rows: FileRow[] = [];
  for (let i = 0, parent = parentId; i < levels; i++) {
    const row = folderRow({ ownerId, parentId: parent, name: `${tag}-${i + 1}` }, now);
    rows.push(row);
    parent = row.id;
  }
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto("files")
      .values(rows.slice(i, i + 200))
      .execute();
  return rows.map((r) => r.id);
}
