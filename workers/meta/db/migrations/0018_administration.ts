import type { Kysely } from "kysely";
import { isMysql } from "../dialect.ts";

// Administration (issue 17): the role and state an administrator sets on a user (admin; disabled_at, null
// while enabled; must_change_password after a reset), one-time signup invites (only the SHA-256 of the
// code is kept: codes are random, so a slow hash adds nothing), the audit log, and instance_claims: one
// row per thing claimed once in the life of an instance. "first_admin" is inserted (or ignored) by the
// transaction that creates a user, so exactly one user, the first, becomes an administrator by being
// first, on either database, however many signups race (a primary key decides, not a count).
// An instance that has users already gets its oldest user as administrator here (its "first user").
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema
    .alterTable("users")
    .addColumn("admin", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("users").addColumn("disabled_at", "bigint").execute();
  await db.schema
    .alterTable("users")
    .addColumn("must_change_password", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  // The admin check and the "last administrator" guard read the administrators.
  await db.schema.createIndex("users_admin").on("users").columns(["admin", "id"]).execute();
  await db.schema
    .createTable("invites")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("code_hash", "char(64)", (c) => c.notNull().unique())
    .addColumn("created_by", "varchar(36)", (c) => c.notNull())
    .addColumn("created_by_username", "varchar(64)", (c) => c.notNull())
    .addColumn("note", "varchar(200)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_by", "varchar(36)")
    .addColumn("used_by_username", "varchar(64)")
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("invites_created").on("invites").columns(["created_at", "id"]).execute();
  await db.schema
    .createTable("audit_events")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("actor_id", "varchar(36)", (c) => c.notNull())
    .addColumn("actor_username", "varchar(64)", (c) => c.notNull())
    .addColumn("action", "varchar(40)", (c) => c.notNull())
    .addColumn("target_id", "varchar(36)", (c) => c.notNull())
    .addColumn("target_username", "varchar(64)", (c) => c.notNull())
    .addColumn("client_address", "varchar(64)", (c) => c.notNull())
    .addColumn("details", "varchar(1000)", (c) => c.notNull())
    .execute();
  // Newest first, all events or one target's (the page token is the last (at, id) seen).
  await db.schema.createIndex("audit_events_at").on("audit_events").columns(["at", "id"]).execute();
  await db.schema
    .createIndex("audit_events_target")
    .on("audit_events")
    .columns(["target_id", "at", "id"])
    .execute();
  await db.schema
    .createTable("instance_claims")
    .addColumn("name", "varchar(40)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull())
    .addColumn("claimed_at", "bigint", (c) => c.notNull())
    .execute();
  const first = await db
    .selectFrom("users")
    .select(["id"])
    .orderBy("created_at")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
  if (first) {
    await db.updateTable("users").set({ admin: 1 }).where("id", "=", first.id).execute();
    await db
      .insertInto("instance_claims")
      .values({ name: "first_admin", user_id: first.id, claimed_at: 0 })
      .execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("instance_claims").execute();
  await db.schema.dropTable("audit_events").execute();
  await db.schema.dropTable("invites").execute();
  const drop = db.schema.dropIndex("users_admin");
  await (isMysql(db) ? drop.on("users") : drop).execute();
  for (const name of ["must_change_password", "disabled_at", "admin"])
    await db.schema.alterTable("users").dropColumn(name).execute();
}
