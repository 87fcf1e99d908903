import type { Kysely } from "kysely";

// Transfer jobs (local disk → S3): the durable record of every job — the outbox the relay publishes to the
// queue from, the job's state for operators, and the local copies waiting out their grace period.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("transfer_jobs")
    .addColumn("blob_sha256", "char(64)", (c) => c.primaryKey())
    .addColumn("state", "varchar(16)", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("last_error", "varchar(1024)")
    .addColumn("target_location", "varchar(255)")
    .addColumn("published_at", "bigint")
    .addColumn("cleanup_location", "varchar(255)")
    .addColumn("cleanup_after", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("transfer_jobs_publish")
    .on("transfer_jobs")
    .columns(["state", "published_at"])
    .execute();
  await db.schema.createIndex("transfer_jobs_cleanup").on("transfer_jobs").column("cleanup_after").execute();
  await db.schema.createIndex("transfer_jobs_updated").on("transfer_jobs").column("updated_at").execute();
  await db.schema.createIndex("blobs_backend").on("blobs").columns(["backend", "sha256"]).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("blobs_backend").on("blobs").execute();
  await db.schema.dropTable("transfer_jobs").execute();
}
