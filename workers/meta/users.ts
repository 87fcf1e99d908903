// Users and refresh tokens. Plain functions over an injected Kysely instance; each is one transaction.
import type { Db } from "./db/database.ts";
import { isUniqueViolation } from "./db/database.ts";
import type { UsersTable } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { claimFirstAdmin, consumeInvite } from "./invites.ts";

export type UserRow = UsersTable;

export class DuplicateUsernameError extends Error {}
export class TokenReplayError extends Error {}
export class TokenInvalidError extends Error {}

/** How long a revocation is enforced when the caller does not say: well past any access token's lifetime. */
export const DEFAULT_REVOCATION_MS = 24 * 3_600_000;

/** What CreateUser may set besides the name and password (administration, migration 0018). */
export interface NewUserOptions {
  /** An administrator from the start (the first user becomes one anyway). */
  admin?: boolean;
  mustChangePassword?: boolean;
  /** SHA-256 hex of an invite code consumed with the creation. */
  inviteCodeHash?: string;
  /** The user's own quota (0: unlimited); undefined: the default. */
  quotaBytes?: number;
}

/**
 * Inserts a user in one transaction with what goes with it: the invite it consumes (InviteInvalidError,
 * nothing written, unless it is unused and unexpired) and the first_admin claim (invites.ts
 * claimFirstAdmin), which makes the first user ever created an administrator.
 */
export async function createUser(
  db: Db,
  username: string,
  passwordHash: string,
  now: number,
  opts: NewUserOptions = {},
): Promise<UserRow> {
  const row: UserRow = {
    id: crypto.randomUUID(),
    username,
    username_key: username.toLowerCase(),
    password_hash: passwordHash,
    created_at: now,
    last_active_at: now,
    admin: opts.admin ? 1 : 0,
    must_change_password: opts.mustChangePassword ? 1 : 0,
    ...(opts.quotaBytes === undefined ? {} : { quota_bytes: opts.quotaBytes }),
  };
  try {
    return await transact(db, async (tx) => {
      if (opts.inviteCodeHash) await consumeInvite(tx, opts.inviteCodeHash, row, now);
      await tx.insertInto("users").values(row).execute();
      if ((await claimFirstAdmin(tx, row.id, now)) && !row.admin) {
        await tx.updateTable("users").set({ admin: 1 }).where("id", "=", row.id).execute();
        return { ...row, admin: 1 };
      }
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new DuplicateUsernameError(username);
    throw err;
  }
}

export async function findUser(
  db: Db,
  key: { id: string } | { username: string },
): Promise<UserRow | undefined> {
  const q = db.selectFrom("users").selectAll();
  const row =
    "id" in key
      ? await q.where("id", "=", key.id).executeTakeFirst()
      : await q.where("username_key", "=", key.username.toLowerCase()).executeTakeFirst();
  return row && normalizeUser(row);
}

/** A users row with its numbers as numbers (MySQL may answer BIGINT columns as strings). */
export const normalizeUser = (row: UserRow): UserRow => ({
  ...row,
  created_at: Number(row.created_at),
  last_active_at: Number(row.last_active_at),
  admin: Number(row.admin ?? 0),
  disabled_at: row.disabled_at == null ? null : Number(row.disabled_at),
  must_change_password: Number(row.must_change_password ?? 0),
});

export async function touchUser(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable("users").set({ last_active_at: now }).where("id", "=", id).execute();
}

/** The client of a sign-in or refresh, shown in the user's list of sessions ("": unknown). */
export interface SessionClient {
  clientAddress?: string;
  userAgent?: string;
}

/** Bounded to the columns (a user agent can be any length). */
const clientColumns = (c: SessionClient) => ({
  client_address: c.clientAddress ? c.clientAddress.slice(0, 64) : null,
  user_agent: c.userAgent ? c.userAgent.slice(0, 255) : null,
});

export async function createRefreshToken(
  db: Db,
  t: { userId: string; tokenHash: string; expiresAt: number; familyId?: string } & SessionClient,
  now: number,
): Promise<void> {
  await db
    .insertInto("refresh_tokens")
    .values({
      token_hash: t.tokenHash,
      user_id: t.userId,
      family_id: t.familyId ?? crypto.randomUUID(),
      created_at: now,
      expires_at: t.expiresAt,
      used_at: null,
      revoked_at: null,
      session_created_at: now,
      ...clientColumns(t),
    })
    .execute();
}

/**
 * Consumes a live refresh token and stores its successor in one transaction. A token that was used or
 * revoked before revokes its whole family (someone replayed it) and fails with TokenReplayError.
 */
export async function rotateRefreshToken(
  db: Db,
  oldHash: string,
  next: { tokenHash: string; expiresAt: number } & SessionClient,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<{ userId: string; sessionId: string }> {
  const outcome = await transact(db, async (tx) => {
    const row = await tx
      .selectFrom("refresh_tokens")
      .selectAll()
      .where("token_hash", "=", oldHash)
      .executeTakeFirst();
    if (!row) return { kind: "invalid" as const };
    if (row.used_at !== null || row.revoked_at !== null) {
      await revokeSession(tx, row, now, revocationExpiresAt);
      return { kind: "replay" as const };
    }
    if (Number(row.expires_at) <= now) return { kind: "invalid" as const };
    // The used_at guard makes two concurrent rotations of one token race safely: one wins. The revoked_at
    // guard makes a rotation racing a signout lose: the session must not gain a live token after it ended.
    const res = await tx
      .updateTable("refresh_tokens")
      .set({ used_at: now })
      .where("token_hash", "=", oldHash)
      .where("used_at", "is", null)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return { kind: "replay" as const };
    const client = clientColumns(next);
    await tx
      .insertInto("refresh_tokens")
      .values({
        token_hash: next.tokenHash,
        user_id: row.user_id,
        family_id: row.family_id,
        created_at: now,
        expires_at: next.expiresAt,
        used_at: null,
        revoked_at: null,
        session_created_at: row.session_created_at ?? row.created_at,
        client_address: client.client_address ?? row.client_address ?? null,
        user_agent: client.user_agent ?? row.user_agent ?? null,
      })
      .execute();
    return { kind: "ok" as const, userId: row.user_id, sessionId: row.family_id };
  });
  if (outcome.kind === "replay") throw new TokenReplayError();
  if (outcome.kind === "invalid") throw new TokenInvalidError();
  return { userId: outcome.userId, sessionId: outcome.sessionId };
}

/**
 * Ends the session (family) of a token: its refresh tokens stop working and its access tokens are refused
 * until revocationExpiresAt (see listRevokedSessions). False when the token is unknown.
 */
export async function revokeRefreshToken(
  db: Db,
  tokenHash: string,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<boolean> {
  return transact(db, async (tx) => {
    const row = await tx
      .selectFrom("refresh_tokens")
      .select(["family_id", "user_id"])
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!row) return false;
    await revokeSession(tx, row, now, revocationExpiresAt);
    return true;
  });
}

export async function revokeSession(
  tx: Db,
  row: { family_id: string; user_id: string },
  now: number,
  revocationExpiresAt: number,
): Promise<void> {
  await tx
    .updateTable("refresh_tokens")
    .set({ revoked_at: now })
    .where("family_id", "=", row.family_id)
    .where("revoked_at", "is", null)
    .execute();
  // Ignored when the session was revoked before: its first revocation already covers every access token
  // the session ever got (none is issued after it).
  await tx
    .insertInto("revoked_sessions")
    .values({
      session_id: row.family_id,
      user_id: row.user_id,
      revoked_at: now,
      expires_at: revocationExpiresAt,
    })
    .orIgnore()
    .execute();
}

/**
 * Sessions revoked at or after `since` whose revocation is still in force at `now`. Callers ask again with
 * a `since` somewhat before the previous call's `now`: a revocation stamped just before one read may commit
 * just after it.
 */
export async function listRevokedSessions(
  db: Db,
  since: number,
  now: number,
): Promise<{ sessionId: string; expiresAt: number }[]> {
  let q = db
    .selectFrom("revoked_sessions")
    .select(["session_id", "expires_at"])
    .where("expires_at", ">", now);
  if (since > 0) q = q.where("revoked_at", ">=", since);
  const rows = await q.execute();
  return rows.map((r) => ({ sessionId: r.session_id, expiresAt: Number(r.expires_at) }));
}
