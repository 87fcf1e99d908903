import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// One index per listing order of ListFiles, so that every page is an index range read in order (no sort of
// the whole folder per page): a folder's entries of one kind (folders, then files) by name, size or update
// time, ties by id; and the same over every folder of the owner (all_folders, files only). The id is
// listed explicitly: SQLite's indexes end with the rowid, not the primary key. files_owner_updated served
// only the all-folders listing by update time, which files_all_updated_at now serves in full.
const ORDERS = ["name", "size", "updated_at"] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  for (const key of ORDERS) {
    await db.schema
      .createIndex(`files_list_${key}`)
      .on("files")
      .columns(["owner_id", "parent_id", "status", "kind", key, "id"])
      .execute();
    await db.schema
      .createIndex(`files_all_${key}`)
      .on("files")
      .columns(["owner_id", "status", "kind", key, "id"])
      .execute();
  }
  await dropIndex(db, "files_owner_updated");
}

/** DROP INDEX names the table on MySQL, and must not on SQLite. */
// biome-ignore lint/suspicious/noExplicitAny: see up().
async function dropIndex(db: Kysely<any>, name: string): Promise<void> {
  const drop = db.schema.dropIndex(name);
  await (isMysql(db) ? drop.on("files") : drop).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("files_owner_updated")
    .on("files")
    .columns(["owner_id", "status", "updated_at"])
    .execute();
  for (const key of ORDERS) {
    await dropIndex(db, `files_all_${key}`);
    await dropIndex(db, `files_list_${key}`);
  }
}
