import type { Kysely } from "kysely";

// Nextcloud chunked uploads (v2) in flight (DavTransferService), kept in the database so that every
// WebDAV replica, and one restarted, continues a transfer begun elsewhere: the client's transfer id (the
// upload folder it made with MKCOL) to the upload session its chunks go into. A row lives a day from
// MKCOL, then as long as its upload session; it is deleted when the transfer completes or is aborted, and
// expired rows are ignored by every read and swept when a transfer is created.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("dav_transfers")
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // The upload folder's name, as the client chose it (at most 200 bytes).
    .addColumn("transfer_id", "varchar(200)", (c) => c.notNull())
    // "" until the first chunk created the session.
    .addColumn("session_id", "varchar(36)", (c) => c.notNull())
    // OC-Total-Length; null while unknown.
    .addColumn("total", "bigint")
    .addColumn("part_size", "bigint", (c) => c.notNull())
    .addColumn("part_count", "integer", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("dav_transfers_pk", ["owner_id", "transfer_id"])
    .execute();
  // The sweep.
  await db.schema.createIndex("dav_transfers_expiry").on("dav_transfers").column("expires_at").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("dav_transfers").execute();
}
