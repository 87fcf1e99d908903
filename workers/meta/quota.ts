// Quotas: each user's quota and usage counters on their users row (migration 0016). Usage is logical:
// every file counts its full size for its owner, in the trash too until purged, and so does every kept
// version (otherwise replacing a file over and over would be free storage; retention and DeleteVersion
// give the bytes back); folders and derived blobs (thumbnails) count nothing; deduplication gives no
// discount. Every check is ONE conditional UPDATE of the owner's row (`used + reserved + pending + need
// <= quota`), never a read then a write, so concurrent uploads cannot overshoot on either database; the
// owner's row is the one the tree changes lock already (content.ts lockOwner), so no new hot row appears.
//   reserved_bytes: declared sizes of live upload sessions (reserved at creation, turned into usage at
//                   completion, released by abort and expiry);
//   pending_bytes:  bodies being received on a data plane (single PUT, form, UploadFile stream), held by
//                   ReserveUploadBytes and taken over by the file they become.
// The recount (recountUsage) rebuilds the counters from the tables and reports what drifted.
import { Code, ConnectError } from "@connectrpc/connect";
import { type ExpressionBuilder, sql, type UpdateObject } from "kysely";
import { Reason, withReason } from "../../core/reasons.ts";
import { lockOwner } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { Database } from "./db/schema.ts";
import { transact } from "./db/transact.ts";

const GiB = 1024 ** 3;
export const DEFAULT_QUOTA_BYTES = 10 * GiB;
/** A data-plane hold not renewed for this long belongs to an upload that died: the recount drops it. */
export const PENDING_STALE_MS = 24 * 3600_000;

export interface QuotaRules {
  /** DEFAULT_QUOTA_BYTES: the quota of users without one of their own (0: unlimited). */
  defaultBytes: number;
}

/** No quota at all (tests and callers that charge nothing). */
export const UNLIMITED: QuotaRules = { defaultBytes: 0 };

export class InvalidQuotaError extends Error {}
export class UnknownUserError extends Error {}

/** Bytes as a person reads them: "1.5 GiB", "512 B". */
export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1).replace(/\.0$/, "") : Math.round(v)} ${units[i]}`;
}

/** ResourceExhausted, reason QUOTA_EXCEEDED (507 on the data planes), saying where the caller stands. */
export function quotaExceeded(used: number, quota: number, needed: number): ConnectError {
  const e = new ConnectError(
    `quota exceeded: ${humanBytes(used)} of ${humanBytes(quota)} used, this upload needs ${humanBytes(needed)}` +
      " (delete files, empty the trash or remove old versions to free space)",
    Code.ResourceExhausted,
  );
  return withReason(e, Reason.QUOTA_EXCEEDED, {
    used: String(used),
    quota: String(quota),
    needed: String(needed),
  });
}

/** The quota in force for a row: its own, else the default. */
const limit = (rules: QuotaRules) => sql<number>`COALESCE(quota_bytes, ${rules.defaultBytes})`;

/** `need` more bytes fit beside what is used and held (always, under no quota). */
const fits = (rules: QuotaRules, need: number) =>
  sql<boolean>`(${limit(rules)} = 0 OR used_bytes + reserved_bytes + pending_bytes + ${need} <= ${limit(rules)})`;

/** column - n, never below zero (a counter the recount reset meanwhile). */
const minus = (column: string, n: number) =>
  sql<number>`CASE WHEN ${sql.ref(column)} >= ${n} THEN ${sql.ref(column)} - ${n} ELSE 0 END`;

/** The refusal for `need` bytes, from the owner's counters as they are now. */
async function refusal(db: Db, rules: QuotaRules, ownerId: string, need: number): Promise<ConnectError> {
  const row = await db
    .selectFrom("users")
    .select(["used_bytes", "reserved_bytes", "pending_bytes", "quota_bytes"])
    .where("id", "=", ownerId)
    .executeTakeFirst();
  if (!row) return new ConnectError("no such user", Code.NotFound);
  const quota = row.quota_bytes == null ? rules.defaultBytes : Number(row.quota_bytes);
  const used = Number(row.used_bytes) + Number(row.reserved_bytes) + Number(row.pending_bytes);
  return quotaExceeded(used, quota, need);
}

type Counter = "used_bytes" | "reserved_bytes" | "pending_bytes";
type CounterSet = (eb: ExpressionBuilder<Database, "users">) => UpdateObject<Database, "users">;

/**
 * The one conditional update every check is: `changes` to the owner's row, only if `need` more bytes fit
 * (no check when need <= 0); QUOTA_EXCEEDED when they do not. The changes always alter the row, so MySQL's
 * changed-rows count is 1 exactly when the row was updated.
 */
async function updateIfFits(db: Db, rules: QuotaRules, ownerId: string, need: number, changes: CounterSet) {
  const res = await db
    .updateTable("users")
    .set(changes)
    .where("id", "=", ownerId)
    .$if(need > 0, (q) => q.where(fits(rules, need)))
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw await refusal(db, rules, ownerId, need);
}

/** `bytes` off one counter of the owner (never below zero); nothing for none. */
async function decrease(db: Db, ownerId: string, counter: Counter, bytes: number): Promise<void> {
  if (bytes <= 0) return;
  await db
    .updateTable("users")
    .set({ [counter]: minus(counter, bytes) })
    .where("id", "=", ownerId)
    .execute();
}

/** What a charge takes over from holds made earlier for the same bytes. */
export interface Held {
  /** From reserved_bytes (an upload session's declared size). */
  reserved?: number;
  /** From pending_bytes (a data-plane body). */
  pending?: number;
}

/**
 * Charges `bytes` of new content to the owner, inside the caller's transaction. Bytes held earlier for it
 * become usage without a check; any more are checked under the quota (QUOTA_EXCEEDED when they do not
 * fit: the caller's transaction then rolls back whole).
 */
export async function charge(tx: Db, rules: QuotaRules, ownerId: string, bytes: number, held: Held = {}) {
  const reserved = held.reserved ?? 0;
  const pending = held.pending ?? 0;
  if (bytes <= 0 && reserved <= 0 && pending <= 0) return;
  await updateIfFits(tx, rules, ownerId, bytes - reserved - pending, (eb) => ({
    used_bytes: eb("used_bytes", "+", bytes),
    ...(reserved > 0 ? { reserved_bytes: minus("reserved_bytes", reserved) } : {}),
    ...(pending > 0 ? { pending_bytes: minus("pending_bytes", pending) } : {}),
  }));
}

/** The usage rows make: files and versions count their size, folders nothing. */
export const logicalBytes = (rows: readonly { kind?: string; size: number | string }[]): number =>
  rows.reduce((n, r) => n + (r.kind === "folder" ? 0 : Number(r.size)), 0);

/** Charges new file rows (copies) to their owner: files count their size, folders nothing. */
export async function chargeRows(
  tx: Db,
  rules: QuotaRules,
  rows: readonly { owner_id: string; kind: string; size: number | string }[],
): Promise<void> {
  const byOwner = new Map<string, number>();
  for (const r of rows)
    if (r.kind === "file") byOwner.set(r.owner_id, (byOwner.get(r.owner_id) ?? 0) + Number(r.size));
  for (const [owner, bytes] of byOwner) await charge(tx, rules, owner, bytes);
}

/** Gives usage back (purged files, dropped versions), inside the caller's transaction. */
export const giveBack = (tx: Db, ownerId: string, bytes: number) =>
  decrease(tx, ownerId, "used_bytes", bytes);

/** Reserves an upload session's declared size, inside the transaction that records it. */
export async function reserveSession(
  tx: Db,
  rules: QuotaRules,
  ownerId: string,
  size: number,
): Promise<void> {
  if (size <= 0) return;
  await updateIfFits(tx, rules, ownerId, size, (eb) => ({ reserved_bytes: eb("reserved_bytes", "+", size) }));
}

/** Releases an upload session's reservation (it was aborted or expired), inside the caller's transaction. */
export const releaseSession = (tx: Db, ownerId: string, size: number) =>
  decrease(tx, ownerId, "reserved_bytes", size);

/** Holds `bytes` for a body being received (ReserveUploadBytes); QUOTA_EXCEEDED when they do not fit. */
export async function reservePending(db: Db, rules: QuotaRules, ownerId: string, bytes: number, now: number) {
  if (bytes <= 0) return;
  await updateIfFits(db, rules, ownerId, bytes, (eb) => ({
    pending_bytes: eb("pending_bytes", "+", bytes),
    pending_at: now,
  }));
}

/**
 * Throws QUOTA_EXCEEDED when `bytes` more would not fit now (UnknownUserError for no such user); holds
 * nothing, so it is an early answer (CheckQuota) and never a substitute for the charge.
 */
export async function requireRoom(db: Db, rules: QuotaRules, ownerId: string, bytes: number) {
  const row = await db
    .selectFrom("users")
    .select(fits(rules, Math.max(0, bytes)).as("ok"))
    .where("id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new UnknownUserError();
  if (!Number(row.ok)) throw await refusal(db, rules, ownerId, bytes);
}

/** Gives back a body's hold that no file took over (the upload failed). */
export const releasePending = (db: Db, ownerId: string, bytes: number) =>
  decrease(db, ownerId, "pending_bytes", bytes);

/**
 * Sets a user's own quota (bytes, 0: unlimited), or with null makes them follow the default again: one
 * UPDATE (an administrator's SetQuota). InvalidQuotaError for a negative or fractional quota.
 */
export async function setQuota(db: Db, userId: string, bytes: number | null): Promise<void> {
  if (bytes !== null && (!Number.isSafeInteger(bytes) || bytes < 0))
    throw new InvalidQuotaError("a quota is a whole number of bytes, 0 or more (0: unlimited)");
  const res = await db
    .updateTable("users")
    .set({ quota_bytes: bytes })
    .where("id", "=", userId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) {
    const known = await db.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst();
    if (!known) throw new UnknownUserError(userId);
  }
}

/** What the owner's tables say their counters should be. */
async function measured(db: Db, ownerId: string) {
  const sum = (v: unknown) => Number(v ?? 0);
  const files = await db
    .selectFrom("files")
    .select((eb) => [
      "status",
      eb.fn.sum<number | string | null>("size").as("bytes"),
      eb.fn.countAll<number | string>().as("n"),
    ])
    .where("owner_id", "=", ownerId)
    .where("kind", "=", "file")
    .groupBy("status")
    .execute();
  const versions = await db
    .selectFrom("file_versions")
    .select((eb) => eb.fn.sum<number | string | null>("size").as("bytes"))
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  const sessions = await db
    .selectFrom("upload_sessions")
    .select((eb) => eb.fn.sum<number | string | null>("size").as("bytes"))
    .where("owner_id", "=", ownerId)
    .where("state", "in", ["open", "completing"])
    .executeTakeFirst();
  const active = files.find((f) => f.status === "active");
  const trash = files.find((f) => f.status === "trashed");
  const versionBytes = sum(versions?.bytes);
  return {
    used: sum(active?.bytes) + sum(trash?.bytes) + versionBytes,
    reserved: sum(sessions?.bytes),
    files: sum(active?.n),
    trashBytes: sum(trash?.bytes),
    versionBytes,
  };
}

export interface Usage {
  userId: string;
  used: number;
  /** Sessions' reservations plus data-plane holds. */
  reserved: number;
  /** In force; 0: unlimited. */
  quota: number;
  defaultQuota: boolean;
  files: number;
  trashBytes: number;
  versionBytes: number;
}

/** The owner's usage and quota; UnknownUserError when there is no such user. */
export async function usageOf(db: Db, rules: QuotaRules, ownerId: string): Promise<Usage> {
  const row = await db
    .selectFrom("users")
    .select(["used_bytes", "reserved_bytes", "pending_bytes", "quota_bytes"])
    .where("id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new UnknownUserError(ownerId);
  const m = await measured(db, ownerId);
  return {
    userId: ownerId,
    used: Number(row.used_bytes),
    reserved: Number(row.reserved_bytes) + Number(row.pending_bytes),
    quota: row.quota_bytes == null ? rules.defaultBytes : Number(row.quota_bytes),
    defaultQuota: row.quota_bytes == null,
    files: m.files,
    trashBytes: m.trashBytes,
    versionBytes: m.versionBytes,
  };
}

export interface Drift {
  userId: string;
  usedBefore: number;
  usedAfter: number;
  reservedBefore: number;
  reservedAfter: number;
}

/**
 * Recomputes the counters of up to `limit` users after `afterUserId` from their rows and fixes those that
 * drifted (a data-plane hold older than PENDING_STALE_MS counts as drift: its upload died). Each user in
 * a transaction that first locks their row: every change of usage updates that row too, so the sums read
 * next see every committed change and none can commit until the counters are written.
 */
export async function recountUsage(
  db: Db,
  now: number,
  opts: { afterUserId?: string; limit?: number; pendingStaleMs?: number; dryRun?: boolean } = {},
): Promise<{ drifts: Drift[]; checked: number; lastUserId: string }> {
  const users = await db
    .selectFrom("users")
    .select("id")
    .where("id", ">", opts.afterUserId ?? "")
    .orderBy("id")
    .limit(opts.limit ?? 100)
    .execute();
  const staleBefore = now - (opts.pendingStaleMs ?? PENDING_STALE_MS);
  const drifts: Drift[] = [];
  for (const { id } of users) {
    const drift = await transact(db, async (tx) => {
      // A dry run (fsck without --repair) writes nothing, not even the lock; it may see a change half-made.
      if (!opts.dryRun) await lockOwner(tx, id);
      const row = await tx
        .selectFrom("users")
        .select(["used_bytes", "reserved_bytes", "pending_bytes", "pending_at"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const m = await measured(tx, id);
      const pending = Number(row.pending_bytes);
      const stalePending = pending !== 0 && Number(row.pending_at ?? 0) < staleBefore;
      const before = { used: Number(row.used_bytes), reserved: Number(row.reserved_bytes) + pending };
      if (before.used === m.used && Number(row.reserved_bytes) === m.reserved && !stalePending)
        return undefined;
      if (!opts.dryRun)
        await tx
          .updateTable("users")
          .set({
            used_bytes: m.used,
            reserved_bytes: m.reserved,
            ...(stalePending ? { pending_bytes: 0 } : {}),
          })
          .where("id", "=", id)
          .execute();
      const after = m.reserved + (stalePending ? 0 : pending);
      return {
        userId: id,
        usedBefore: before.used,
        usedAfter: m.used,
        reservedBefore: before.reserved,
        reservedAfter: after,
      };
    });
    if (drift) drifts.push(drift);
  }
  return { drifts, checked: users.length, lastUserId: users.at(-1)?.id ?? "" };
}
