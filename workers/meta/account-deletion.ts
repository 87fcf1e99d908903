// Deleting a user for good. First, one transaction ends every way in: the password (replaced by a value
// no password matches), sessions and app passwords (their access tokens refused), TOTP. Then the user's
// entries go the way of any deleted file: to the trash, then purged entry by entry (trash-upkeep.ts), each
// purge dropping its content references so garbage collection frees what no one else names. Last, one
// transaction under the owner's lock purges whatever appeared meanwhile and deletes the user row; the
// rest (refresh tokens, upload sessions, download links, versions) goes with it by foreign key; the
// staged parts of its unfinished upload sessions are recorded for the upload sweep, which deletes them.
import { sql } from "kysely";
import { revokeAllAppPasswords } from "./app-passwords.ts";
import { dropFileRow, lockOwner } from "./content.ts";
import type { Db } from "./db/database.ts";
import { transact } from "./db/transact.ts";
import { trashFile } from "./trash.ts";
import { emptyTrash } from "./trash-upkeep.ts";
import { revokeUserSessions } from "./user-sessions.ts";
import { DEFAULT_REVOCATION_MS } from "./users.ts";

/** The password hash of an account being deleted: not a PHC string, so no password verifies against it. */
export const DELETED_PASSWORD_HASH = "!deleted";

/** Ends every way into the account; false when the user does not exist. */
async function closeAccount(
  db: Db,
  userId: string,
  now: number,
  revocationExpiresAt: number,
): Promise<boolean> {
  return transact(db, async (tx) => {
    const res = await tx
      .updateTable("users")
      .set({ password_hash: DELETED_PASSWORD_HASH })
      .where("id", "=", userId)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      // MySQL counts changed rows only: the hash may be the marker already (a retried deletion).
      const exists = await tx.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst();
      if (!exists) return false;
    }
    await revokeUserSessions(tx, userId, "", now, revocationExpiresAt);
    await revokeAllAppPasswords(tx, userId, now, revocationExpiresAt);
    await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
    await tx.deleteFrom("user_totp").where("user_id", "=", userId).execute();
    return true;
  });
}

/**
 * Records the owner's unfinished upload sessions (their rows go with the user) so that the upload sweep
 * deletes their staged parts; a completed session's parts went with its completion.
 */
async function orphanUploadSessions(tx: Db, ownerId: string, now: number): Promise<void> {
  await tx
    .insertInto("orphaned_upload_sessions")
    .columns(["session_id", "backend", "completion_owner", "created_at"])
    .expression(
      tx
        .selectFrom("upload_sessions")
        .select(["id", "backend", "completion_owner", sql<number>`${now}`.as("created_at")])
        .where("owner_id", "=", ownerId)
        .where("state", "!=", "completed"),
    )
    .execute();
}

/** Moves every active top-level entry of the owner to the trash (folders take their subtrees along). */
async function trashEverything(db: Db, ownerId: string, now: number): Promise<void> {
  for (;;) {
    const tops = await db
      .selectFrom("files")
      .select("id")
      .where("owner_id", "=", ownerId)
      .where("parent_id", "=", "")
      .where("status", "=", "active")
      .limit(500)
      .execute();
    for (const t of tops) await trashFile(db, ownerId, t.id, now);
    if (tops.length < 500) return;
  }
}

/**
 * Deletes the user and everything of theirs; how many entries were purged. False-y work when the user is
 * gone already (0). Safe to run again after a failure part way.
 */
export async function deleteAccount(
  db: Db,
  userId: string,
  now: number,
  revocationExpiresAt = now + DEFAULT_REVOCATION_MS,
): Promise<number> {
  if (!(await closeAccount(db, userId, now, revocationExpiresAt))) return 0;
  await trashEverything(db, userId, now);
  const { n } = await db
    .selectFrom("files")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("owner_id", "=", userId)
    .executeTakeFirstOrThrow();
  await emptyTrash(db, userId, now);
  await transact(db, async (tx) => {
    await lockOwner(tx, userId);
    // Entries an operation in flight added after the purge (a token is refused within seconds, not at once).
    const late = await tx.selectFrom("files").select("id").where("owner_id", "=", userId).execute();
    for (const f of late) await dropFileRow(tx, userId, f.id, now);
    await orphanUploadSessions(tx, userId, now);
    await tx.deleteFrom("users").where("id", "=", userId).execute();
  });
  return Number(n);
}
