// The consistency checker's view of stuck work (fsck; workers/file/fsck-stuck.ts cleans it up): work whose
// deadline passed long ago (more than the checker's grace period) and that still holds bytes or
// reservations, because the sweeper meant for it did not run or failed each time. Each query is one range
// of an existing index: upload_sessions_expiry (state, expires_at), transfer_jobs_state_changed (state,
// updated_at), blobs_gc (refcount, unreferenced_at), transfer_jobs_cleanup (cleanup_after).
import type { Db } from "./db/database.ts";
import type { TransferState } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { nums, type SessionRow } from "./uploads.ts";

/** Session states that hold parts or a reservation until a sweep removes them. */
const UNSWEPT = ["open", "completing", "aborted"] as const;
/** Job states that a live attempt would have moved on from long ago. */
const IN_FLIGHT: TransferState[] = ["queued", "running"];

export interface StuckTransferRow {
  blob_sha256: string;
  state: TransferState;
  attempts: number;
  last_error: string | null;
  target_location: string | null;
  updated_at: number;
  size: number;
}

export interface PendingDeletionRow {
  kind: "blob" | "moved_copy";
  sha256: string;
  backend: string;
  location: string;
  size: number;
  since: number;
}

export interface StuckWork {
  sessions: { count: number; bytes: number; items: SessionRow[] };
  transfers: { count: number; bytes: number; items: StuckTransferRow[] };
  deletions: { count: number; bytes: number; items: PendingDeletionRow[] };
}

const n = (v: unknown) => Number(v ?? 0);

async function stuckSessions(db: Db, before: number, limit: number): Promise<StuckWork["sessions"]> {
  const where = db
    .selectFrom("upload_sessions")
    .where("state", "in", [...UNSWEPT])
    .where("expires_at", "<=", before);
  const total = await where
    .select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("size").as("bytes")])
    .executeTakeFirstOrThrow();
  const items = await where.selectAll().orderBy("expires_at").limit(limit).execute();
  return { count: n(total.n), bytes: n(total.bytes), items: items.map(nums) };
}

/** In-flight jobs without a sign of life since `before`, and dead letters (failed for good). */
function stuckJobs(db: Db, before: number) {
  return db
    .selectFrom("transfer_jobs as j")
    .where((eb) =>
      eb.or([
        eb.and([eb("j.state", "in", IN_FLIGHT), eb("j.updated_at", "<=", before)]),
        eb("j.state", "=", "failed"),
      ]),
    );
}

async function stuckTransfers(db: Db, before: number, limit: number): Promise<StuckWork["transfers"]> {
  const total = await stuckJobs(db, before)
    .leftJoin("blobs as b", "b.sha256", "j.blob_sha256")
    .select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("b.size").as("bytes")])
    .executeTakeFirstOrThrow();
  const rows = await stuckJobs(db, before)
    .leftJoin("blobs as b", "b.sha256", "j.blob_sha256")
    .select(["j.blob_sha256", "j.state", "j.attempts", "j.last_error", "j.target_location", "j.updated_at"])
    .select("b.size")
    .orderBy("j.updated_at")
    .limit(limit)
    .execute();
  const items = rows.map((r) => ({
    ...r,
    attempts: n(r.attempts),
    updated_at: n(r.updated_at),
    size: n(r.size),
  }));
  return { count: n(total.n), bytes: n(total.bytes), items };
}

async function pendingDeletions(db: Db, before: number, limit: number): Promise<StuckWork["deletions"]> {
  const blobs = db.selectFrom("blobs").where("refcount", "=", 0).where("unreferenced_at", "<=", before);
  const copies = db
    .selectFrom("transfer_jobs as j")
    .where("j.cleanup_after", "<=", before)
    .where("j.cleanup_location", "is not", null);
  const [blobTotal, copyTotal, blobRows, copyRows] = await Promise.all([
    blobs.select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("size").as("bytes")]).executeTakeFirstOrThrow(),
    copies
      .innerJoin("blobs as b", "b.sha256", "j.blob_sha256")
      .select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("b.size").as("bytes")])
      .executeTakeFirstOrThrow(),
    blobs
      .select(["sha256", "backend", "location", "size", "unreferenced_at"])
      .orderBy("unreferenced_at")
      .limit(limit)
      .execute(),
    copies
      .leftJoin("blobs as b", "b.sha256", "j.blob_sha256")
      .select(["j.blob_sha256", "j.cleanup_location", "j.cleanup_after", "b.size"])
      .orderBy("j.cleanup_after")
      .limit(limit)
      .execute(),
  ]);
  const items: PendingDeletionRow[] = [
    ...blobRows.map((b) => ({
      kind: "blob" as const,
      sha256: b.sha256,
      backend: b.backend,
      location: b.location,
      size: n(b.size),
      since: n(b.unreferenced_at),
    })),
    ...copyRows.map((c) => ({
      kind: "moved_copy" as const,
      sha256: c.blob_sha256,
      backend: "local",
      location: c.cleanup_location ?? "",
      size: n(c.size),
      since: n(c.cleanup_after),
    })),
  ].slice(0, limit);
  return {
    count: n(blobTotal.n) + n(copyTotal.n),
    bytes: n(blobTotal.bytes) + n(copyTotal.bytes),
    items,
  };
}

/** Work whose deadline passed before `before` (epoch ms), counted, with the first `limit` of each kind. */
export async function stuckWork(db: Db, before: number, limit: number): Promise<StuckWork> {
  const [sessions, transfers, deletions] = await Promise.all([
    stuckSessions(db, before, limit),
    stuckTransfers(db, before, limit),
    pendingDeletions(db, before, limit),
  ]);
  return { sessions, transfers, deletions };
}

/**
 * Starts a stuck job afresh (see ListStuckWork: in flight without a sign of life since `before`, or
 * failed): queued and unpublished, so the relay hands it out again, with its attempts reset and its
 * attempt's target forgotten (the fence: that attempt can no longer switch the blob). Returns whether it
 * was reset and the target copy its attempt may have left, unless the blob names it.
 */
export async function resetStuckTransfer(
  db: Db,
  sha256: string,
  before: number,
  now: number,
): Promise<{ reset: boolean; leftover: string | null }> {
  return transact(db, async (tx) => {
    const job = await stuckJobs(tx, before)
      .select(["j.target_location"])
      .where("j.blob_sha256", "=", sha256)
      .executeTakeFirst();
    if (!job) return { reset: false, leftover: null };
    await tx
      .updateTable("transfer_jobs")
      .set({ state: "queued", attempts: 0, published_at: null, target_location: null, updated_at: now })
      .where("blob_sha256", "=", sha256)
      .execute();
    const target = job.target_location;
    if (!target) return { reset: true, leftover: null };
    const named = await tx
      .selectFrom("blobs")
      .select("sha256")
      .where("location", "=", target)
      .executeTakeFirst();
    return { reset: true, leftover: named ? null : target };
  });
}
