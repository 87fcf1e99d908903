import type { Kysely } from "kysely";

// Content (blobs), the users' names for it (files), and resumable upload sessions with their parts.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("blobs")
    .addColumn("sha256", "char(64)", (c) => c.primaryKey())
    .addColumn("sha1", "char(40)", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("backend", "varchar(16)", (c) => c.notNull())
    .addColumn("location", "varchar(255)", (c) => c.notNull())
    .addColumn("state", "varchar(16)", (c) => c.notNull())
    .addColumn("refcount", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("unreferenced_at", "bigint")
    .execute();
  await db.schema.createIndex("blobs_sha1").on("blobs").column("sha1").execute();
  await db.schema.createIndex("blobs_gc").on("blobs").columns(["refcount", "unreferenced_at"]).execute();

  await db.schema
    .createTable("files")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // "" is the root folder: a NULL would escape unique indexes on MySQL.
    .addColumn("parent_id", "varchar(36)", (c) => c.notNull())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("kind", "varchar(8)", (c) => c.notNull())
    .addColumn("blob_sha256", "char(64)", (c) => c.references("blobs.sha256"))
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("status", "varchar(8)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("deleted_at", "bigint")
    .execute();
  await db.schema
    .createIndex("files_owner_parent")
    .on("files")
    .columns(["owner_id", "parent_id", "status", "name"])
    .execute();
  await db.schema
    .createIndex("files_owner_updated")
    .on("files")
    .columns(["owner_id", "status", "updated_at"])
    .execute();
  await db.schema.createIndex("files_blob").on("files").column("blob_sha256").execute();

  await db.schema
    .createTable("upload_sessions")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("parent_id", "varchar(36)", (c) => c.notNull())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    // Declared by the client when known; verified at completion.
    .addColumn("sha256", "char(64)")
    .addColumn("sha1", "char(40)")
    .addColumn("part_size", "bigint", (c) => c.notNull())
    .addColumn("part_count", "integer", (c) => c.notNull())
    .addColumn("backend", "varchar(16)", (c) => c.notNull())
    .addColumn("state", "varchar(16)", (c) => c.notNull())
    .addColumn("file_id", "varchar(36)")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("upload_sessions_owner").on("upload_sessions").column("owner_id").execute();
  await db.schema
    .createIndex("upload_sessions_expiry")
    .on("upload_sessions")
    .columns(["state", "expires_at"])
    .execute();

  await db.schema
    .createTable("upload_parts")
    .addColumn("session_id", "varchar(64)", (c) =>
      c.notNull().references("upload_sessions.id").onDelete("cascade"),
    )
    .addColumn("part_number", "integer", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("sha256", "char(64)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("upload_parts_pk", ["session_id", "part_number"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ["upload_parts", "upload_sessions", "files", "blobs"])
    await db.schema.dropTable(t).execute();
}
