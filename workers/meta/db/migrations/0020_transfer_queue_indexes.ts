import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// The operators' view of the transfer queue (ListTransferJobs, GetTransferStats): jobs of one state by last
// change, and all jobs by last change, each an in-order index range with the SHA-256 as the tie-break (the
// keyset cursor's second key). The second replaces transfer_jobs_updated, which lacked the tie-break on
// SQLite (whose secondary indexes end in the rowid, not the primary key); the feed of WatchTransfers orders
// the same way. The first also gives the oldest queued job and the jobs done lately without a scan.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("transfer_jobs_state_changed")
    .on("transfer_jobs")
    .columns(["state", "updated_at", "blob_sha256"])
    .execute();
  await db.schema
    .createIndex("transfer_jobs_changed")
    .on("transfer_jobs")
    .columns(["updated_at", "blob_sha256"])
    .execute();
  await dropIndex(db, "transfer_jobs_updated");
}

/** DROP INDEX names the table on MySQL, and must not on SQLite. */
// biome-ignore lint/suspicious/noExplicitAny: see up().
async function dropIndex(db: Kysely<any>, name: string): Promise<void> {
  const drop = db.schema.dropIndex(name);
  await (isMysql(db) ? drop.on("transfer_jobs") : drop).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("transfer_jobs_updated").on("transfer_jobs").column("updated_at").execute();
  await dropIndex(db, "transfer_jobs_changed");
  await dropIndex(db, "transfer_jobs_state_changed");
}
