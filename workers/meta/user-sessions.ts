// A user's own sign-in sessions (refresh-token families): listing the live ones, ending one or all but
// one, and changing the password, which ends the others in the same transaction. A session is live while
// its family holds a refresh token neither used, revoked nor expired (rotation leaves exactly one).
import type { Db } from "./db/database.ts";
import { transact } from "./db/transact.ts";
import { DEFAULT_REVOCATION_MS, revokeSession } from "./users.ts";

export interface UserSessionRow {
  sessionId: string;
  createdAt: number;
  lastUsedAt: number;
  clientAddress: string;
  userAgent: string;
}

/** The password hash changed since the caller read it (another change won). */
export class PasswordChangedError extends Error {}

const live = (db: Db, userId: string, now: number) =>
  db
    .selectFrom("refresh_tokens")
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now);

/** The user's live sessions, most recently used first. */
export async function listUserSessions(db: Db, userId: string, now: number): Promise<UserSessionRow[]> {
  const rows = await live(db, userId, now)
    .select(["family_id", "created_at", "session_created_at", "client_address", "user_agent"])
    .orderBy("created_at", "desc")
    .execute();
  return rows.map((r) => ({
    sessionId: r.family_id,
    // The live token was made by the family's latest sign-in or refresh.
    lastUsedAt: Number(r.created_at),
    createdAt: Number(r.session_created_at ?? r.created_at),
    clientAddress: r.client_address ?? "",
    userAgent: r.user_agent ?? "",
  }));
}

/**
 * Ends the user's sessions but `keep` ("" ends all); how many ended. Besides the live ones, a session
 * whose refresh token expired lately may still hold unexpired access tokens: those within the revocation
 * window (revocationExpiresAt - now, an access token's lifetime and a margin) end too.
 */
export async function revokeUserSessions(
  tx: Db,
  userId: string,
  keep: string,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<number> {
  let q = live(tx, userId, now - (revocationExpiresAt - now)).select("family_id");
  if (keep) q = q.where("family_id", "<>", keep);
  const families = [...new Set((await q.execute()).map((r) => r.family_id))];
  for (const family_id of families)
    await revokeSession(tx, { family_id, user_id: userId }, now, revocationExpiresAt);
  return families.length;
}

/** Ends one live session of the user; false when the user has no such live session. */
export async function revokeUserSession(
  db: Db,
  userId: string,
  sessionId: string,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<boolean> {
  return transact(db, async (tx) => {
    const row = await live(tx, userId, now)
      .select("family_id")
      .where("family_id", "=", sessionId)
      .executeTakeFirst();
    if (!row) return false;
    await revokeSession(tx, { family_id: sessionId, user_id: userId }, now, revocationExpiresAt);
    return true;
  });
}

/**
 * Replaces the password hash while it is still `expected` (else PasswordChangedError, nothing changed) and
 * ends every other session of the user; how many ended.
 */
export async function setPasswordHash(
  db: Db,
  change: { userId: string; hash: string; expected: string; keepSessionId: string },
  now: number,
  revocationExpiresAt?: number,
): Promise<number> {
  return transact(db, async (tx) => {
    const res = await tx
      .updateTable("users")
      // A password the user chose: no longer one an administrator set (migration 0018).
      .set({ password_hash: change.hash, must_change_password: 0 })
      .where("id", "=", change.userId)
      .where("password_hash", "=", change.expected)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new PasswordChangedError();
    return revokeUserSessions(tx, change.userId, change.keepSessionId, now, revocationExpiresAt);
  });
}
