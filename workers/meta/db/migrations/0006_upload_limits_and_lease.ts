import type { Kysely } from "kysely";

// Upload sessions: a completion lease, so that a completion whose process died can be taken over
// (completion_owner names the attempt, completing_since is its last sign of life), and an index for
// counting a user's open sessions (the per-user cap) without reading their finished ones.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("upload_sessions").addColumn("completion_owner", "varchar(36)").execute();
  await db.schema.alterTable("upload_sessions").addColumn("completing_since", "bigint").execute();
  await db.schema
    .createIndex("upload_sessions_owner_state")
    .on("upload_sessions")
    .columns(["owner_id", "state", "expires_at"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("upload_sessions_owner_state").on("upload_sessions").execute();
  await db.schema.alterTable("upload_sessions").dropColumn("completing_since").execute();
  await db.schema.alterTable("upload_sessions").dropColumn("completion_owner").execute();
}
