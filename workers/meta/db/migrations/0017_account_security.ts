import type { Kysely } from "kysely";

// Account self-service: what a session shows in the user's list (the client of its last sign-in or
// refresh, kept on each refresh token and copied along its family), TOTP two-factor state with its
// one-time recovery codes, and app passwords. Secrets are stored as SHA-256 hashes (they are random, so a
// slow hash adds nothing), except the TOTP secret, which verifying needs.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable("refresh_tokens").addColumn("session_created_at", "bigint").execute();
  await db.schema.alterTable("refresh_tokens").addColumn("client_address", "varchar(64)").execute();
  await db.schema.alterTable("refresh_tokens").addColumn("user_agent", "varchar(255)").execute();
  await db.schema
    .createTable("user_totp")
    .addColumn("user_id", "varchar(36)", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
    .addColumn("secret", "varchar(64)", (c) => c.notNull())
    // Null while the secret awaits confirmation.
    .addColumn("enabled_at", "bigint")
    // The last time step whose code was accepted: a code of it or an earlier step is refused (replay).
    .addColumn("last_step", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("recovery_codes")
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("code_hash", "char(64)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("recovery_codes_pk", ["user_id", "code_hash"])
    .execute();
  await db.schema
    .createTable("app_passwords")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("name", "varchar(100)", (c) => c.notNull())
    .addColumn("token_hash", "char(64)", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .execute();
  await db.schema.createIndex("app_passwords_user").on("app_passwords").column("user_id").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("app_passwords").execute();
  await db.schema.dropTable("recovery_codes").execute();
  await db.schema.dropTable("user_totp").execute();
  await db.schema.alterTable("refresh_tokens").dropColumn("user_agent").execute();
  await db.schema.alterTable("refresh_tokens").dropColumn("client_address").execute();
  await db.schema.alterTable("refresh_tokens").dropColumn("session_created_at").execute();
}
