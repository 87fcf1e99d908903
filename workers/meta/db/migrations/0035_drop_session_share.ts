import type { Kysely } from "kysely";

// Upload sessions opened by a drop link's visitors name that link (share_id; null for the owner's own
// sessions). A visitor's session is charged to the owner's quota, but it is not one of the owner's: it must
// not take a slot of the owner's cap of open sessions (visitors could then stop the owner from uploading),
// nor be found by the owner's resume-by-content. It counts toward its link's own cap instead, hence the
// index. No foreign key: a revoked link's sessions stay until they expire (every call re-checks the link).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("upload_sessions").addColumn("share_id", "varchar(64)").execute();
  await db.schema
    .createIndex("upload_sessions_share_state")
    .on("upload_sessions")
    .columns(["share_id", "state", "expires_at"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("upload_sessions_share_state").on("upload_sessions").execute();
  await db.schema.alterTable("upload_sessions").dropColumn("share_id").execute();
}
