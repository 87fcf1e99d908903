import { type Kysely, sql } from "kysely";
import { isMysql } from "../dialect.ts";

// Quotas (workers/meta/quota.ts): each user's own quota (null: DEFAULT_QUOTA_BYTES, so an administrator's
// SetQuota is one UPDATE of one column and changing the default reaches everyone who has none) and the
// usage counters the uploads check with one conditional UPDATE: bytes used (logical: files, in the trash
// too, and versions), bytes reserved by live upload sessions, and bytes held by bodies being received on
// a data plane (pending; pending_at: the last reservation, so that the recount can tell a crashed
// upload's hold from a running one). Existing users' counters are computed from their rows here.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  const columns: [string, boolean][] = [
    ["quota_bytes", true],
    ["used_bytes", false],
    ["reserved_bytes", false],
    ["pending_bytes", false],
    ["pending_at", true],
  ];
  for (const [name, nullable] of columns)
    await db.schema
      .alterTable("users")
      .addColumn(name, "bigint", (c) => (nullable ? c : c.notNull().defaultTo(0)))
      .execute();
  // The recount and GetUsage sum an owner's versions.
  await db.schema
    .createIndex("file_versions_owner")
    .on("file_versions")
    .columns(["owner_id", "size"])
    .execute();
  await sql`UPDATE users SET
    used_bytes = COALESCE((SELECT SUM(f.size) FROM files f WHERE f.owner_id = users.id AND f.kind = 'file'), 0)
      + COALESCE((SELECT SUM(v.size) FROM file_versions v WHERE v.owner_id = users.id), 0),
    reserved_bytes = COALESCE((SELECT SUM(s.size) FROM upload_sessions s
      WHERE s.owner_id = users.id AND s.state IN ('open', 'completing')), 0)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  const drop = db.schema.dropIndex("file_versions_owner");
  await (isMysql(db) ? drop.on("file_versions") : drop).execute();
  for (const name of ["pending_at", "pending_bytes", "reserved_bytes", "used_bytes", "quota_bytes"])
    await db.schema.alterTable("users").dropColumn(name).execute();
}
