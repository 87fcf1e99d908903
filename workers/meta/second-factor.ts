// TOTP two-factor state: a secret pending until confirmed, then on; the last accepted time step (so a
// code is accepted once, and never one older than a code already used); one-time recovery codes (hashes).
// Verifying codes is the account service's; this keeps the state and makes each use atomic.
import type { Db } from "./db/database.ts";
import { transact } from "./db/transact.ts";

export type TotpState = "off" | "pending" | "on";

export interface TotpRow {
  state: TotpState;
  secret: string;
  recoveryCodesLeft: number;
}

/** TOTP is on (for a new secret) or the pending secret is no longer the one confirmed. */
export class TotpStateError extends Error {}

export async function getTotp(db: Db, userId: string): Promise<TotpRow> {
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
  return {
    state: row.enabled_at === null ? "pending" : "on",
    secret: row.secret,
    recoveryCodesLeft: Number(n),
  };
}

/** Stores a secret awaiting confirmation, replacing a pending one; TotpStateError when TOTP is on. */
export async function setPendingTotp(db: Db, userId: string, secret: string, now: number): Promise<void> {
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
      .values({ user_id: userId, secret, enabled_at: null, last_step: 0, created_at: now })
      .execute();
  });
}

/** Turns the pending `secret` on with `step` used, and replaces the recovery codes. */
export async function enableTotp(
  db: Db,
  userId: string,
  confirm: { secret: string; step: number; recoveryCodeHashes: string[] },
  now: number,
): Promise<void> {
  await transact(db, async (tx) => {
    const res = await tx
      .updateTable("user_totp")
      .set({ enabled_at: now, last_step: confirm.step })
      .where("user_id", "=", userId)
      .where("secret", "=", confirm.secret)
      .where("enabled_at", "is", null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1)
      throw new TotpStateError("this enrolment is no longer pending; start it again");
    await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
    if (confirm.recoveryCodeHashes.length > 0)
      await tx
        .insertInto("recovery_codes")
        .values(
          confirm.recoveryCodeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now })),
        )
        .execute();
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
