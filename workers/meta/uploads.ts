// Resumable upload sessions and their parts. The session row is the single source of truth: any replica
// of the upload service can resume, complete or abort it after a restart.
import { failpoint } from "../lib/failpoint.ts";
import { lockOwner, requireFolder } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { UploadPartsTable, UploadSessionsTable, UploadState } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { insertOrUpdate } from "./db/upsert.ts";
import { orphanedSessions } from "./orphaned-uploads.ts";
import { type QuotaRules, releaseSession, reserveSession } from "./quota.ts";

/** A session row; a new one needs no completion lease (it is "open"). */
export type SessionRow = Omit<
  UploadSessionsTable,
  "completion_owner" | "completing_since" | "on_conflict" | "share_id"
> &
  Partial<Pick<UploadSessionsTable, "completion_owner" | "completing_since" | "share_id">> & {
    on_conflict?: number;
  };
export type PartRow = UploadPartsTable;

export const nums = (s: SessionRow): SessionRow => ({
  ...s,
  size: Number(s.size),
  part_size: Number(s.part_size),
  part_count: Number(s.part_count),
  created_at: Number(s.created_at),
  expires_at: Number(s.expires_at),
  completing_since: s.completing_since == null ? null : Number(s.completing_since),
});

/** States in which a session holds resources (a slot of its owner's cap, declared bytes) until it expires. */
const LIVE: UploadState[] = ["open", "completing"];

export interface SessionLimits {
  /** The owner's live sessions may not reach more than this (0: no limit). */
  maxOpen?: number;
  /** Bytes free where the parts go: live sessions of the backend may not declare more than they fit. */
  availableBytes?: number;
  /** The owner's quota: the session reserves its declared size under it (QUOTA_EXCEEDED otherwise). */
  quota?: QuotaRules;
}

export type Refusal = "too_many_open_sessions" | "storage_full";

/** What the live sessions of a backend have declared and not stored yet (bytes). */
async function outstandingBytes(tx: Db, backend: string, now: number): Promise<number> {
  const declared = await tx
    .selectFrom("upload_sessions")
    .select((eb) => eb.fn.sum<number | string | null>("size").as("total"))
    .where("state", "in", LIVE)
    .where("expires_at", ">", now)
    .where("backend", "=", backend)
    .executeTakeFirst();
  const stored = await tx
    .selectFrom("upload_parts")
    .innerJoin("upload_sessions", "upload_sessions.id", "upload_parts.session_id")
    .select((eb) => eb.fn.sum<number | string | null>("upload_parts.size").as("total"))
    .where("upload_sessions.state", "in", LIVE)
    .where("upload_sessions.expires_at", ">", now)
    .where("upload_sessions.backend", "=", backend)
    .executeTakeFirst();
  return Number(declared?.total ?? 0) - Number(stored?.total ?? 0);
}

/**
 * Records a session in the owner's folder (FolderNotFoundError unless it is "" or an active folder of the
 * owner), unless a limit refuses it. The owner's lock serializes their creations, so the cap holds; the
 * free-space check is across users and may let concurrent creations overshoot by one session each.
 */
export async function openSession(
  db: Db,
  row: SessionRow,
  limits: SessionLimits,
): Promise<SessionRow | { refused: Refusal }> {
  return transact(db, async (tx) => {
    const maxOpen = limits.maxOpen ?? 0;
    if (maxOpen > 0 || row.parent_id !== "") await lockOwner(tx, row.owner_id);
    await requireFolder(tx, row.owner_id, row.parent_id);
    if (maxOpen > 0 && (await openSessions(tx, row)) >= maxOpen) {
      return { refused: "too_many_open_sessions" as const };
    }
    if (limits.availableBytes !== undefined) {
      const outstanding = await outstandingBytes(tx, row.backend, row.created_at);
      if (outstanding + row.size > limits.availableBytes) return { refused: "storage_full" as const };
    }
    if (limits.quota) await reserveSession(tx, limits.quota, row.owner_id, row.size);
    await tx.insertInto("upload_sessions").values(row).execute();
    return row;
  });
}

/**
 * The live sessions that share `row`'s cap: its drop link's (a visitor's session) or else its owner's own
 * (visitors' sessions are charged to the owner's quota but do not take the owner's slots).
 */
async function openSessions(tx: Db, row: SessionRow): Promise<number> {
  const shareId = row.share_id ?? null;
  const counted = tx
    .selectFrom("upload_sessions")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("state", "in", LIVE)
    .where("expires_at", ">", row.created_at);
  const open = await (shareId
    ? counted.where("share_id", "=", shareId)
    : counted.where("owner_id", "=", row.owner_id).where("share_id", "is", null)
  ).executeTakeFirstOrThrow();
  return Number(open.n);
}

/** openSession without limits. */
export async function createSession(db: Db, row: SessionRow): Promise<SessionRow> {
  const created = await openSession(db, row, {});
  if ("refused" in created) throw new Error("no limit was given, yet the session was refused");
  return created;
}

/** The session if it exists and belongs to `ownerId`. */
export async function findSession(db: Db, id: string, ownerId: string): Promise<SessionRow | undefined> {
  const row = await db
    .selectFrom("upload_sessions")
    .selectAll()
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  return row && nums(row);
}

/** Records (or replaces, when re-sent) a received part of an open session; false when the session is not open. */
export async function recordPart(db: Db, part: PartRow, now: number): Promise<boolean> {
  return transact(db, async (tx) => {
    const open = await tx
      .selectFrom("upload_sessions")
      .select("id")
      .where("id", "=", part.session_id)
      .where("state", "=", "open")
      .where("expires_at", ">", now)
      .executeTakeFirst();
    if (!open) return false;
    const resent = { size: part.size, sha256: part.sha256, created_at: part.created_at };
    const insert = tx.insertInto("upload_parts").values(part);
    await insertOrUpdate(tx, insert, ["session_id", "part_number"], resent).execute();
    return true;
  });
}

/**
 * The owner's newest unexpired session for this size and declared hashes that is open or being completed
 * (resuming one whose completion stopped leads to CompleteUploadSession, which takes it over).
 */
export async function findOpenSession(
  db: Db,
  q: { ownerId: string; size: number; sha256: string | null; sha1: string | null },
  now: number,
): Promise<SessionRow | undefined> {
  const row = await db
    .selectFrom("upload_sessions")
    .selectAll()
    .where("owner_id", "=", q.ownerId)
    .where("share_id", "is", null) // never a drop link visitor's session
    .where("size", "=", q.size)
    .where("state", "in", LIVE)
    .where("expires_at", ">", now)
    .where((eb) => (q.sha256 ? eb("sha256", "=", q.sha256) : eb("sha256", "is", null)))
    .where((eb) => (q.sha1 ? eb("sha1", "=", q.sha1) : eb("sha1", "is", null)))
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  return row && nums(row);
}

export async function listParts(db: Db, sessionId: string): Promise<PartRow[]> {
  const rows = await db
    .selectFrom("upload_parts")
    .selectAll()
    .where("session_id", "=", sessionId)
    .orderBy("part_number")
    .execute();
  return rows.map((r) => ({ ...r, size: Number(r.size), part_number: Number(r.part_number) }));
}

/** The attempt that held a session, when a transition took it over from that attempt. */
export interface Takeover {
  done: boolean;
  previousOwner?: string;
}

/** Any holder (callers from before the lease name none). */
const ANY = Symbol("any holder");

/**
 * Moves the session from `from` (as it was read: state and holder) to `to`, only if nobody changed it
 * meanwhile (compare and set: the transition is one statement, safe to run again).
 */
async function swap(
  db: Db,
  id: string,
  from: { state: UploadState; completion_owner: string | null | typeof ANY },
  to: Partial<SessionRow>,
): Promise<boolean> {
  const holder = from.completion_owner;
  const res = await db
    .updateTable("upload_sessions")
    .set(to)
    .where("id", "=", id)
    .where("state", "=", from.state)
    .$if(holder !== ANY, (q) =>
      q.where((eb) =>
        holder === null ? eb("completion_owner", "is", null) : eb("completion_owner", "=", holder as string),
      ),
    )
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** The session's state and completion lease, while unexpired. */
const leaseOf = (db: Db, id: string, now: number) =>
  db
    .selectFrom("upload_sessions")
    .select(["state", "completion_owner", "completing_since"])
    .where("id", "=", id)
    .where("expires_at", ">", now)
    .executeTakeFirst();

const stale = (s: { state: UploadState; completing_since: number | null }, leaseMs: number, now: number) =>
  s.state === "completing" && leaseMs > 0 && Number(s.completing_since ?? 0) <= now - leaseMs;

/**
 * Gives the session's completion to `owner`: from "open", or from a completion whose holder has shown no
 * sign of life for `leaseMs` (a crashed process: it is taken over, and named so that the caller cleans up
 * after it). Not done when it is being completed by a live attempt, completed, aborted or expired.
 */
export async function takeCompletion(
  db: Db,
  id: string,
  owner: string | null,
  leaseMs: number,
  now: number,
): Promise<Takeover> {
  const s = await leaseOf(db, id, now);
  if (!s || (s.state !== "open" && !stale(s, leaseMs, now))) return { done: false };
  const done = await swap(db, id, s, { state: "completing", completion_owner: owner, completing_since: now });
  return done && s.state === "completing"
    ? { done, previousOwner: s.completion_owner ?? undefined }
    : { done };
}

/** Moves an open session to "completing" (held by nobody in particular: no lease). */
export async function beginCompletion(db: Db, id: string, now: number): Promise<boolean> {
  return (await takeCompletion(db, id, null, 0, now)).done;
}

/** The holder's sign of life; false when `owner` no longer holds the completion (it was taken over). */
export async function renewCompletion(db: Db, id: string, owner: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable("upload_sessions")
    .set({ completing_since: now })
    .where("id", "=", id)
    .where("state", "=", "completing")
    .where("completion_owner", "=", owner)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

const released = { state: "open", completion_owner: null, completing_since: null } as const;

/**
 * Returns a completing session to "open" so the client can fix parts: a completion that failed
 * verification, by its holder (`owner`; absent: whoever holds it).
 */
export async function reopen(db: Db, id: string, owner?: string | null): Promise<boolean> {
  return swap(db, id, { state: "completing", completion_owner: owner ?? ANY }, released);
}

/**
 * Reopens a completing session whose holder has shown no sign of life for `leaseMs` (a part sent after a
 * completion crashed); the answer names that holder, whose leftovers the caller cleans up.
 */
export async function reopenStale(db: Db, id: string, leaseMs: number, now: number): Promise<Takeover> {
  const s = await leaseOf(db, id, now);
  if (!s || !stale(s, leaseMs, now)) return { done: false };
  const done = await swap(db, id, s, released);
  return done ? { done, previousOwner: s.completion_owner ?? undefined } : { done };
}

/** The completion attempt no longer holds the session (another one took it over). */
export class CompletionLostError extends Error {}

/**
 * Completes the session with its file inside the caller's transaction (the one that records the file), so
 * that the file and the completed session exist together or not at all. CompletionLostError when `owner`
 * does not hold the completion: the transaction must then roll back.
 */
export async function completeWithin(tx: Db, id: string, owner: string, fileId: string): Promise<void> {
  const done = await swap(
    tx,
    id,
    { state: "completing", completion_owner: owner },
    { state: "completed", file_id: fileId, completion_owner: null, completing_since: null },
  );
  if (!done) throw new CompletionLostError(id);
  failpoint("meta.complete.row"); // test-only: a crash with the row written, not committed
}

/** Completes the session held by `owner` (null: by whoever holds it), for a caller that recorded the file. */
export async function markCompleted(
  db: Db,
  id: string,
  fileId: string,
  owner: string | null = null,
): Promise<boolean> {
  return transact(db, async (tx) => {
    const done = await swap(
      tx,
      id,
      { state: "completing", completion_owner: owner ?? ANY },
      { state: "completed", file_id: fileId, completion_owner: null, completing_since: null },
    );
    // The caller's file was charged on its own: the session's reservation goes.
    const s = done
      ? await tx
          .selectFrom("upload_sessions")
          .select(["owner_id", "size"])
          .where("id", "=", id)
          .executeTakeFirst()
      : undefined;
    if (s) await releaseSession(tx, s.owner_id, Number(s.size));
    return done;
  });
}

/**
 * Marks an unfinished session aborted (by its owner, or expired) and releases its reservation in the same
 * transaction; false when it was already completed, aborted or gone.
 */
export async function abortSession(db: Db, id: string): Promise<boolean> {
  const s = await db
    .selectFrom("upload_sessions")
    .select(["owner_id", "size"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!s) return false;
  return transact(db, async (tx) => {
    // The owner's row first, as a completion takes it (content.ts), so the two never deadlock.
    await lockOwner(tx, s.owner_id);
    const res = await tx
      .updateTable("upload_sessions")
      .set({ state: "aborted" })
      .where("id", "=", id)
      .where("state", "in", LIVE)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await releaseSession(tx, s.owner_id, Number(s.size));
    return true;
  });
}

/** Sessions past their expiry that were never completed (the sweeper removes their parts). */
export async function expiredSessions(db: Db, now: number, limit = 100): Promise<SessionRow[]> {
  const rows = await db
    .selectFrom("upload_sessions")
    .selectAll()
    .where("state", "in", ["open", "completing", "aborted"])
    .where("expires_at", "<=", now)
    .limit(limit)
    .execute();
  if (rows.length >= limit) return rows.map(nums);
  return [...rows.map(nums), ...(await orphanedSessions(db, limit - rows.length))];
}

/** Removes a session and its part rows (after its part bytes were deleted). */
export async function deleteSession(db: Db, id: string): Promise<void> {
  await transact(db, async (tx) => {
    await tx.deleteFrom("upload_parts").where("session_id", "=", id).execute();
    await tx.deleteFrom("upload_sessions").where("id", "=", id).execute();
    await tx.deleteFrom("orphaned_upload_sessions").where("session_id", "=", id).execute();
  });
}
