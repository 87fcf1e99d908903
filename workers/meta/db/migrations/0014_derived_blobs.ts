import type { Kysely } from "kysely";

// Derived blobs (thumbnails): one row per content (SHA-256) and kind, "ready" with the bytes' location or
// "skipped" when none can be made; not content (no refcount, no quota). The blobs index on created_at lets
// the thumbnail sweep page through content newer than its cursor instead of scanning every row.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("derived_blobs")
    .addColumn("sha256", "char(64)", (c) => c.notNull())
    .addColumn("kind", "varchar(16)", (c) => c.notNull())
    .addColumn("state", "varchar(8)", (c) => c.notNull())
    .addColumn("backend", "varchar(16)", (c) => c.notNull())
    .addColumn("location", "varchar(255)", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("derived_blobs_pk", ["sha256", "kind"])
    .execute();
  await db.schema.createIndex("blobs_created").on("blobs").columns(["created_at", "sha256"]).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("blobs_created").on("blobs").execute();
  await db.schema.dropTable("derived_blobs").execute();
}
