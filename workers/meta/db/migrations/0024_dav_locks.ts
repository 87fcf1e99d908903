import type { Kysely } from "kysely";

// WebDAV locks (RFC 4918 6–7, DavLockService), kept in the database so every WebDAV replica sees them. A
// lock names a path of its owner's tree (names joined by "/", "" = the root), not an entry: a lock may
// stand on a resource a LOCK has just created, and it is dropped when the resource moves or goes.
// Expired rows are ignored by every read and swept when a lock is taken.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("dav_locks")
    // "opaquelocktoken:" + 128 random bits in the UUID form.
    .addColumn("token", "varchar(64)", (c) => c.primaryKey())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("path", "text", (c) => c.notNull())
    // 1: depth infinity (the members too), 0: the resource alone.
    .addColumn("deep", "integer", (c) => c.notNull())
    // 1: exclusive, 0: shared.
    .addColumn("exclusive", "integer", (c) => c.notNull())
    // The DAV:owner element the client sent, as inner XML ("" for none).
    .addColumn("owner_xml", "text", (c) => c.notNull())
    .addColumn("timeout_seconds", "integer", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  // A user's locks (every check reads them all: a user holds at most a bounded number), and the sweep.
  await db.schema
    .createIndex("dav_locks_owner")
    .on("dav_locks")
    .columns(["owner_id", "expires_at"])
    .execute();
  await db.schema.createIndex("dav_locks_expiry").on("dav_locks").column("expires_at").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("dav_locks").execute();
}
