import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// Trash retention (TRASH_RETENTION_DAYS): the periodic pass looks for trash entries of any owner deleted
// before a time, oldest first, without reading every row.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("files_trash_expiry").on("files").columns(["status", "deleted_at"]).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  const drop = db.schema.dropIndex("files_trash_expiry");
  await (isMysql(db) ? drop.on("files") : drop).execute();
}
