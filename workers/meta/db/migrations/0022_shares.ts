import type { Kysely } from "kysely";

// Share links (issue 18). The id is the link itself (/s/<id>: 128+ random bits, base64url). A link goes
// with its target (purged: the file row is deleted, the foreign key takes the link along) and with its
// owner (account deletion deletes the user row); disabling an owner deletes their links explicitly
// (admin-users.ts). `version` moves on every change of password or options, so share tokens issued
// before stop working. download_count only grows by the conditional update in shares.ts.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("shares")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("target_id", "varchar(36)", (c) => c.notNull().references("files.id").onDelete("cascade"))
    .addColumn("mode", "varchar(8)", (c) => c.notNull())
    // argon2id (Bun.password) or "" for no password.
    .addColumn("password_hash", "varchar(255)", (c) => c.notNull())
    .addColumn("version", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    // 0: unlimited.
    .addColumn("max_downloads", "bigint", (c) => c.notNull())
    .addColumn("download_count", "bigint", (c) => c.notNull())
    .addColumn("view_count", "bigint", (c) => c.notNull())
    .addColumn("last_access_at", "bigint")
    .addColumn("max_file_bytes", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  // The owner's list (newest first) and the links of one target.
  await db.schema
    .createIndex("shares_owner_created")
    .on("shares")
    .columns(["owner_id", "created_at", "id"])
    .execute();
  await db.schema.createIndex("shares_target").on("shares").column("target_id").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("shares").execute();
}
