// TOTP two-factor state: a secret pending until confirmed, then on; the last accepted time step (so a
// code is accepted once, and never one older than a code already used); one-time recovery codes (hashes).
// Verifying codes is the account service's; this keeps the state and makes each use atomic.
import type { Db } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import { transact } from "./db/transact.ts";
import { isSealed, type TotpSecretBox } from "./totp-secret-box.ts";

export type TotpState = "off" | "pending" | "on";

export interface TotpRow {
  state: TotpState;
  secret: string;
  recoveryCodesLeft: number;
}

/** TOTP is on (for a new secret) or the pending secret is no longer the one confirmed. */
export class TotpStateError extends Error {}

/**
 * The user's TOTP state and plaintext secret. A secret stored before encryption is sealed in place here
 * (conditional on it being unchanged, so a concurrent enrolment wins); TotpSecretKeyError when it will not
 * open (fail closed).
 */
export async function getTotp(db: Db, box: TotpSecretBox, userId: string): Promise<TotpRow> {
  const row = await db
    .selectFrom("user_totp")
    .select(["secret", "enabled_at"])
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!row) return { state: "off", secret: "", recoveryCodesLeft: 0 };
  const { n } = await db
    .selectFrom("recovery_codes")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("user_id", "=", userId)
    .executeTakeFirstOrThrow();
  const secret = await box.open(userId, row.secret);
  if (!isSealed(row.secret))
    await db
      .updateTable("user_totp")
      .set({ secret: await box.seal(userId, secret) })
      .where("user_id", "=", userId)
      .where("secret", "=", row.secret)
      .execute();
  return {
    state: row.enabled_at === null ? "pending" : "on",
    secret,
    recoveryCodesLeft: Number(n),
  };
}

/** Stores a secret awaiting confirmation, replacing a pending one; TotpStateError when TOTP is on. */
export async function setPendingTotp(
  db: Db,
  box: TotpSecretBox,
  userId: string,
  secret: string,
  now: number,
): Promise<void> {
  const sealed = await box.seal(userId, secret);
  await transact(db, async (tx) => {
    const row = await tx
      .selectFrom("user_totp")
      .select("enabled_at")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (row && row.enabled_at !== null) throw new TotpStateError("two-factor sign-in is already on");
    await tx.deleteFrom("user_totp").where("user_id", "=", userId).execute();
    await tx
      .insertInto("user_totp")
      .values({ user_id: userId, secret: sealed, enabled_at: null, last_step: 0, created_at: now })
      .execute();
  });
}

/** Turns the pending `secret` on with `step` used, and replaces the recovery codes. */
export async function enableTotp(
  db: Db,
  box: TotpSecretBox,
  userId: string,
  confirm: { secret: string; step: number; recoveryCodeHashes: string[] },
  now: number,
): Promise<void> {
  const pending = await db
    .selectFrom("user_totp")
    .select("secret")
    .where("user_id", "=", userId)
    .where("enabled_at", "is", null)
    .executeTakeFirst();
  // Sealing is randomised: the stored value is matched by what it opens to, then updated only if unchanged.
  const stale = () => new TotpStateError("this enrolment is no longer pending; start it again");
  if (!pending || (await box.open(userId, pending.secret)) !== confirm.secret) throw stale();
  await transact(db, async (tx) => {
    const res = await tx
      .updateTable("user_totp")
      .set({ enabled_at: now, last_step: confirm.step })
      .where("user_id", "=", userId)
      .where("secret", "=", pending.secret)
      .where("enabled_at", "is", null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw stale();
    await replaceCodes(tx, userId, confirm.recoveryCodeHashes, now);
  });
}

async function replaceCodes(tx: Db, userId: string, hashes: string[], now: number): Promise<void> {
  await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
  if (hashes.length > 0)
    await tx
      .insertInto("recovery_codes")
      .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now })))
      .execute();
}

/**
 * Replaces the recovery codes of a user whose TOTP is on (the old ones stop working at once); false when
 * TOTP is not on. The row is locked first so a concurrent disable cannot leave codes without TOTP.
 */
export async function replaceRecoveryCodes(
  db: Db,
  userId: string,
  hashes: string[],
  now: number,
): Promise<boolean> {
  return transact(db, async (tx) => {
    let q = tx
      .selectFrom("user_totp")
      .select("user_id")
      .where("user_id", "=", userId)
      .where("enabled_at", "is not", null);
    if (isMysql(tx)) q = q.forUpdate(); // SQLite's write transaction is serial already
    if (!(await q.executeTakeFirst())) return false;
    await replaceCodes(tx, userId, hashes, now);
    return true;
  });
}

/** Removes the secret (on or pending) and the recovery codes; false when there was no secret. */
export async function disableTotp(db: Db, userId: string): Promise<boolean> {
  return transact(db, async (tx) => {
    await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
    const res = await tx.deleteFrom("user_totp").where("user_id", "=", userId).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  });
}

/**
 * Records `step` as used when TOTP is on and no code of this or a later step was accepted before: one
 * conditional update, so of two concurrent uses of one code exactly one wins.
 */
export async function claimTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const res = await db
    .updateTable("user_totp")
    .set({ last_step: step })
    .where("user_id", "=", userId)
    .where("enabled_at", "is not", null)
    .where("last_step", "<", step)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Consumes a recovery code: false when the user has no unused code with that hash. */
export async function useRecoveryCode(db: Db, userId: string, codeHash: string): Promise<boolean> {
  const res = await db
    .deleteFrom("recovery_codes")
    .where("user_id", "=", userId)
    .where("code_hash", "=", codeHash)
    .executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}
