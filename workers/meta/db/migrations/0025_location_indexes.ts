import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// The consistency checker (workers/meta/integrity.ts) walks a backend's objects and asks which locations the
// database knows: content, thumbnails, and the two locations a transfer job records (its S3 target and the
// local copy it leaves behind). S3 keys carry no SHA-256, so each of these is found by its location.
const INDEXES = [
  ["blobs_location", "blobs", "location"],
  ["derived_blobs_location", "derived_blobs", "location"],
  ["transfer_jobs_target", "transfer_jobs", "target_location"],
  ["transfer_jobs_leftover", "transfer_jobs", "cleanup_location"],
] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, column] of INDEXES)
    await db.schema.createIndex(name).on(table).column(column).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  for (const [name, table] of INDEXES) {
    const drop = db.schema.dropIndex(name);
    // DROP INDEX names the table on MySQL, and must not on SQLite.
    await (isMysql(db) ? drop.on(table) : drop).execute();
  }
}
