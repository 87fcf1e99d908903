// App passwords: named secrets (stored as SHA-256 hashes) for HTTP Basic clients. Revoking one also
// records its id as a revoked session, because the access tokens it yields carry that id as their `sid`.
import type { Db } from "./db/database.ts";
import type { AppPasswordsTable } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { DEFAULT_REVOCATION_MS, revokeSession } from "./users.ts";

export type AppPasswordRow = Omit<AppPasswordsTable, "token_hash">;

/** An app password's use is written at most this often (a WebDAV client may send many requests a second). */
export const LAST_USE_GRANULARITY_MS = 60_000;

const columns = ["id", "user_id", "name", "created_at", "last_used_at"] as const;
const num = (r: AppPasswordRow): AppPasswordRow => ({
  ...r,
  created_at: Number(r.created_at),
  last_used_at: r.last_used_at === null ? null : Number(r.last_used_at),
});

export async function createAppPassword(
  db: Db,
  p: { userId: string; name: string; tokenHash: string },
  now: number,
): Promise<AppPasswordRow> {
  const row = {
    id: crypto.randomUUID(),
    user_id: p.userId,
    name: p.name,
    created_at: now,
    last_used_at: null,
  };
  await db
    .insertInto("app_passwords")
    .values({ ...row, token_hash: p.tokenHash })
    .execute();
  return row;
}

export async function listAppPasswords(db: Db, userId: string): Promise<AppPasswordRow[]> {
  const rows = await db
    .selectFrom("app_passwords")
    .select(columns)
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(num);
}

/** Deletes the user's app password `id` and refuses its tokens; false when the user has none such. */
export async function revokeAppPassword(
  db: Db,
  userId: string,
  id: string,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<boolean> {
  return transact(db, async (tx) => {
    const res = await tx
      .deleteFrom("app_passwords")
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) !== 1) return false;
    await revokeSession(tx, { family_id: id, user_id: userId }, now, revocationExpiresAt);
    return true;
  });
}

/** The app password with this hash (its use recorded), or undefined. */
export async function findAppPassword(
  db: Db,
  tokenHash: string,
  now: number,
): Promise<AppPasswordRow | undefined> {
  const row = await db
    .selectFrom("app_passwords")
    .select(columns)
    .where("token_hash", "=", tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const found = num(row);
  if (found.last_used_at === null || found.last_used_at < now - LAST_USE_GRANULARITY_MS) {
    await db.updateTable("app_passwords").set({ last_used_at: now }).where("id", "=", found.id).execute();
    found.last_used_at = now;
  }
  return found;
}

/**
 * Deletes every app password of the user inside the caller's transaction, their ids recorded as revoked
 * sessions (their access tokens refused); how many there were. Account deletion and disabling use it.
 */
export async function revokeAllAppPasswords(
  tx: Db,
  userId: string,
  now: number,
  revocationExpiresAt: number,
): Promise<number> {
  const apps = await tx.selectFrom("app_passwords").select("id").where("user_id", "=", userId).execute();
  for (const a of apps)
    await revokeSession(tx, { family_id: a.id, user_id: userId }, now, revocationExpiresAt);
  await tx.deleteFrom("app_passwords").where("user_id", "=", userId).execute();
  return apps.length;
}
