import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// TOTP secrets are stored sealed (workers/meta/totp-secret-box.ts: "v1:" and 64 characters of base64url
// for a 160-bit secret), longer than the 64 characters a base32 secret needed. SQLite does not enforce a
// varchar length, so only MariaDB's column is widened. Existing plaintext rows are sealed on first read.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  if (isMysql(db))
    await db.schema
      .alterTable("user_totp")
      .modifyColumn("secret", "varchar(255)", (c) => c.notNull())
      .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  if (isMysql(db))
    await db.schema
      .alterTable("user_totp")
      .modifyColumn("secret", "varchar(64)", (c) => c.notNull())
      .execute();
}
