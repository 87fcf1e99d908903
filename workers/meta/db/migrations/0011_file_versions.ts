import type { Kysely } from "kysely";

// File versions: the earlier contents of a file replaced under the REPLACE conflict policy (or by
// RestoreVersion). A version holds one reference to its blob, like a file row (blobs.refcount counts both),
// so garbage collection frees the bytes only once no file and no version names them. Upload sessions
// remember the conflict policy their completion applies.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("file_versions")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("file_id", "varchar(36)", (c) => c.notNull())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("blob_sha256", "char(64)", (c) => c.references("blobs.sha256"))
    .addColumn("size", "bigint", (c) => c.notNull())
    // When this content became the file's content, and when it stopped being it (retention counts from there).
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("archived_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("file_versions_file")
    .on("file_versions")
    .columns(["file_id", "archived_at"])
    .execute();
  await db.schema.createIndex("file_versions_age").on("file_versions").column("archived_at").execute();
  await db.schema.createIndex("file_versions_blob").on("file_versions").column("blob_sha256").execute();
  // The conflict policy an upload session applies at completion (filestore.file.v1.ConflictPolicy; 0: FAIL).
  await db.schema
    .alterTable("upload_sessions")
    .addColumn("on_conflict", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("upload_sessions").dropColumn("on_conflict").execute();
  await db.schema.dropTable("file_versions").execute();
}
