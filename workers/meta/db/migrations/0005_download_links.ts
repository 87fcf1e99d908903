import type { Kysely } from "kysely";

// Revocable download links: a signed link names the generation of its file's links; revoking moves the file
// to the next generation. A file without a row is at generation 0. The row goes with its file.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("download_links")
    .addColumn("file_id", "varchar(36)", (c) => c.primaryKey().references("files.id").onDelete("cascade"))
    .addColumn("generation", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("download_links").execute();
}
