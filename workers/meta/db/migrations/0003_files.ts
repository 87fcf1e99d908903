import type { Kysely } from "kysely";

// File management: which trash entry a trashed row belongs to (a folder deleted with its subtree restores
// and purges as one), and indexes for the trash listing and for those subtree operations.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("files").addColumn("trashed_with", "varchar(36)").execute();
  await db.schema
    .createIndex("files_owner_trash")
    .on("files")
    .columns(["owner_id", "status", "deleted_at"])
    .execute();
  await db.schema
    .createIndex("files_trashed_with")
    .on("files")
    .columns(["owner_id", "trashed_with"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("files_trashed_with").on("files").execute();
  await db.schema.dropIndex("files_owner_trash").on("files").execute();
  await db.schema.alterTable("files").dropColumn("trashed_with").execute();
}
