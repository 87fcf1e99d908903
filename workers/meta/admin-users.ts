// What administrators see and set about users: the users page (usage and 2FA state read per page in a
// few grouped queries, not per user), the role, disabling and a password reset. Removing an administrator
// (revoking the role, disabling) first locks every enabled administrator's row, so two administrators
// removing each other at once cannot leave the instance without one on either database.

import { sql } from "kysely";
import { revokeAllAppPasswords } from "./app-passwords.ts";
import type { Db } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import { transact } from "./db/transact.ts";
import type { QuotaRules, Usage } from "./quota.ts";
import { deleteUserShares } from "./shares.ts";
import { revokeUserSessions } from "./user-sessions.ts";
import { DEFAULT_REVOCATION_MS, normalizeUser, type UserRow } from "./users.ts";

export interface ManagedUser {
  user: UserRow;
  twoFactor: boolean;
  usage: Usage;
}

/** The change would leave the instance without an enabled administrator. */
export class LastAdminError extends Error {}
export class NoSuchUserError extends Error {}

/** Usage and 2FA state of a page of users: three grouped queries whatever the page size. */
async function decorate(db: Db, rules: QuotaRules, users: UserRow[]): Promise<ManagedUser[]> {
  if (users.length === 0) return [];
  const ids = users.map((u) => u.id);
  const files = await db
    .selectFrom("files")
    .select((eb) => [
      "owner_id",
      "status",
      eb.fn.sum<number | string | null>("size").as("bytes"),
      eb.fn.countAll<number | string>().as("n"),
    ])
    .where("owner_id", "in", ids)
    .where("kind", "=", "file")
    .groupBy(["owner_id", "status"])
    .execute();
  const versions = await db
    .selectFrom("file_versions")
    .select((eb) => ["owner_id", eb.fn.sum<number | string | null>("size").as("bytes")])
    .where("owner_id", "in", ids)
    .groupBy("owner_id")
    .execute();
  const totp = await db
    .selectFrom("user_totp")
    .select("user_id")
    .where("user_id", "in", ids)
    .where("enabled_at", "is not", null)
    .execute();
  const on = new Set(totp.map((t) => t.user_id));
  const of = (id: string, status: string) => files.find((f) => f.owner_id === id && f.status === status);
  return users.map((u) => ({
    user: u,
    twoFactor: on.has(u.id),
    usage: {
      userId: u.id,
      used: Number(u.used_bytes ?? 0),
      reserved: Number(u.reserved_bytes ?? 0) + Number(u.pending_bytes ?? 0),
      quota: u.quota_bytes == null ? rules.defaultBytes : Number(u.quota_bytes),
      defaultQuota: u.quota_bytes == null,
      files: Number(of(u.id, "active")?.n ?? 0),
      trashBytes: Number(of(u.id, "trashed")?.bytes ?? 0),
      versionBytes: Number(versions.find((v) => v.owner_id === u.id)?.bytes ?? 0),
    },
  }));
}

/**
 * username_key contains `text` literally (it is lower-case). The escape character is named, and is not a
 * backslash: SQLite's LIKE has no default one, and the two dialects read a backslash in a literal apart.
 */
const containing = (text: string) =>
  sql<boolean>`username_key LIKE ${`%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`} ESCAPE '!'`;

/** A page of users ordered by username_key after `after`; `next` is "" on the last page. */
export async function listManagedUsers(
  db: Db,
  rules: QuotaRules,
  page: { query: string; limit: number; after: string },
): Promise<{ users: ManagedUser[]; next: string }> {
  const rows = await db
    .selectFrom("users")
    .selectAll()
    .where("username_key", ">", page.after)
    .$if(page.query !== "", (q) => q.where(containing(page.query)))
    .orderBy("username_key")
    .limit(page.limit + 1)
    .execute();
  const more = rows.length > page.limit;
  const users = rows.slice(0, page.limit).map(normalizeUser);
  return {
    users: await decorate(db, rules, users),
    next: more ? (users.at(-1)?.username_key ?? "") : "",
  };
}

export async function getManagedUser(
  db: Db,
  rules: QuotaRules,
  key: { id: string } | { username: string },
): Promise<ManagedUser> {
  const q = db.selectFrom("users").selectAll();
  const row =
    "id" in key
      ? await q.where("id", "=", key.id).executeTakeFirst()
      : await q.where("username_key", "=", key.username.toLowerCase()).executeTakeFirst();
  if (!row) throw new NoSuchUserError();
  const [out] = await decorate(db, rules, [normalizeUser(row)]);
  return out as ManagedUser;
}

/**
 * Inside the caller's transaction: throws LastAdminError when `userId` is the only enabled administrator.
 * The locking read makes a concurrent removal wait and then see this one.
 */
async function keepAnAdmin(tx: Db, userId: string): Promise<void> {
  let q = tx.selectFrom("users").select("id").where("admin", "=", 1).where("disabled_at", "is", null);
  if (isMysql(tx)) q = q.forUpdate();
  const admins = (await q.execute()).map((r) => r.id);
  if (admins.includes(userId) && admins.length === 1) throw new LastAdminError();
}

async function requireUser(tx: Db, userId: string): Promise<void> {
  const row = await tx.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst();
  if (!row) throw new NoSuchUserError();
}

export async function setUserAdmin(db: Db, userId: string, admin: boolean): Promise<void> {
  await transact(db, async (tx) => {
    await requireUser(tx, userId);
    if (!admin) await keepAnAdmin(tx, userId);
    await tx
      .updateTable("users")
      .set({ admin: admin ? 1 : 0 })
      .where("id", "=", userId)
      .execute();
  });
}

/**
 * Disables the user and, in the same transaction, ends every session and deletes every app password
 * (their access tokens listed as revoked: refused everywhere within a poll); or enables them. How many
 * sessions and app passwords ended.
 */
export async function setUserDisabled(
  db: Db,
  userId: string,
  disabled: boolean,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<number> {
  return transact(db, async (tx) => {
    await requireUser(tx, userId);
    if (!disabled) {
      await tx.updateTable("users").set({ disabled_at: null }).where("id", "=", userId).execute();
      return 0;
    }
    await keepAnAdmin(tx, userId);
    await tx
      .updateTable("users")
      .set({ disabled_at: now })
      .where("id", "=", userId)
      .where("disabled_at", "is", null)
      .execute();
    // Their share links are revoked for good (enabling the account again does not bring them back).
    await deleteUserShares(tx, userId);
    const sessions = await revokeUserSessions(tx, userId, "", now, revocationExpiresAt);
    return sessions + (await revokeAllAppPasswords(tx, userId, now, revocationExpiresAt));
  });
}

/** Sets the password hash, requires a change at the next signin and ends every session; how many ended. */
export async function resetUserPassword(
  db: Db,
  userId: string,
  passwordHash: string,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<number> {
  return transact(db, async (tx) => {
    await requireUser(tx, userId);
    await tx
      .updateTable("users")
      .set({ password_hash: passwordHash, must_change_password: 1 })
      .where("id", "=", userId)
      .execute();
    return revokeUserSessions(tx, userId, "", now, revocationExpiresAt);
  });
}
