import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// Hardening of accounts (issue 17's known gaps):
// - TOTP secrets are stored sealed (workers/meta/totp-secret-box.ts: "v1:" and 64 characters of
//   base64url for a 160-bit secret), longer than the 64 characters a base32 secret needed. SQLite does
//   not enforce a varchar length, so only MariaDB's column is widened. Plaintext rows are sealed on read.
// - The upload sessions of a deleted account: their rows go with the user (foreign key), but their staged
//   parts are bytes in the blob store. Deletion records them here and the upload sweep deletes the parts
//   (as for an aborted session), then the record.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  if (isMysql(db))
    await db.schema
      .alterTable("user_totp")
      .modifyColumn("secret", "varchar(255)", (c) => c.notNull())
      .execute();
  await db.schema
    .createTable("orphaned_upload_sessions")
    .addColumn("session_id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("backend", "varchar(16)", (c) => c.notNull())
    // The completion attempt that held it, whose staged assembly is discarded too (null: none).
    .addColumn("completion_owner", "varchar(36)")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("orphaned_upload_sessions").execute();
  if (isMysql(db))
    await db.schema
      .alterTable("user_totp")
      .modifyColumn("secret", "varchar(64)", (c) => c.notNull())
      .execute();
}
