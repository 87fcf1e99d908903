// Signup invites (SIGNUP=invite) and the first_admin claim: what UserService.CreateUser consumes in the
// transaction that inserts the user, and what AdminDataService lists and revokes. An invite is one row
// keyed by the SHA-256 of its code; consuming it is one conditional UPDATE (unused, unexpired), so two
// signups racing for one code cannot both win on either database.
import type { Db } from "./db/database.ts";
import type { InvitesTable, UsersTable } from "./db/schema.ts";

export type InviteRow = InvitesTable;

/** The invite code is unknown, used or expired. */
export class InviteInvalidError extends Error {}

/** Marks the invite used by `user`, inside the caller's transaction; InviteInvalidError when it cannot be. */
export async function consumeInvite(
  tx: Db,
  codeHash: string,
  user: Pick<UsersTable, "id" | "username">,
  now: number,
): Promise<void> {
  const res = await tx
    .updateTable("invites")
    .set({ used_by: user.id, used_by_username: user.username, used_at: now })
    .where("code_hash", "=", codeHash)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw new InviteInvalidError();
}

/**
 * True when `userId` just claimed first_admin (no user claimed it before), inside the transaction that
 * creates the user. The claim's primary key decides: a concurrent creation waits for this transaction
 * (MySQL/MariaDB: the key's lock; SQLite: one writer) and then finds the row, so exactly one user wins.
 */
export async function claimFirstAdmin(tx: Db, userId: string, now: number): Promise<boolean> {
  const taken = await tx
    .selectFrom("instance_claims")
    .select("name")
    .where("name", "=", "first_admin")
    .executeTakeFirst();
  if (taken) return false;
  const res = await tx
    .insertInto("instance_claims")
    .values({ name: "first_admin", user_id: userId, claimed_at: now })
    .orIgnore()
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows) === 1;
}

export async function createInvite(
  db: Db,
  invite: Omit<InviteRow, "id" | "created_at" | "used_by" | "used_by_username" | "used_at">,
  now: number,
): Promise<InviteRow> {
  const row: InviteRow = {
    ...invite,
    id: crypto.randomUUID(),
    created_at: now,
    used_by: null,
    used_by_username: null,
    used_at: null,
  };
  await db.insertInto("invites").values(row).execute();
  return row;
}

const normalize = (r: InviteRow): InviteRow => ({
  ...r,
  created_at: Number(r.created_at),
  expires_at: Number(r.expires_at),
  used_at: r.used_at == null ? null : Number(r.used_at),
});

/** Invites newest first: the usable ones (unused, unexpired), or with includeInactive all of them. */
export async function listInvites(db: Db, includeInactive: boolean, now: number): Promise<InviteRow[]> {
  const rows = await db
    .selectFrom("invites")
    .selectAll()
    .$if(!includeInactive, (q) => q.where("used_at", "is", null).where("expires_at", ">", now))
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(1000)
    .execute();
  return rows.map(normalize);
}

/** Deletes an unused invite; false when there is no such unused invite. */
export async function revokeInvite(db: Db, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom("invites")
    .where("id", "=", id)
    .where("used_at", "is", null)
    .executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}
