import type { Kysely } from "kysely";

// Ended sign-in sessions (Signout, refresh-token replay): every process that checks access tokens polls
// the rows revoked since its last look (revoked_at) and, when it starts, every row still in force
// (expires_at: after it, no access token of the session is valid anyway).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("revoked_sessions")
    .addColumn("session_id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull())
    .addColumn("revoked_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("revoked_sessions_revoked")
    .on("revoked_sessions")
    .column("revoked_at")
    .execute();
  await db.schema
    .createIndex("revoked_sessions_expires")
    .on("revoked_sessions")
    .column("expires_at")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("revoked_sessions").execute();
}
