// Transfer jobs (local disk → S3). The table is the durable record of every job: the outbox the relay
// publishes to the queue from (published_at), the job's state for operators, the S3 key an attempt writes
// to (recorded before it writes, and used as a fence: only the latest attempt may switch the blob), and
// the local copy waiting out its grace period after the move.

import { activeTraceparent } from "../../core/tracing/tracer.ts";
import type { Db } from "./db/database.ts";
import type { BlobsTable, TransferJobsTable } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { insertOrUpdate } from "./db/upsert.ts";

export type TransferJobRow = TransferJobsTable;

const MAX_ERROR = 1000;

/** A row with its numbers as numbers (MariaDB returns BIGINTs as strings). */
export const num = (r: TransferJobRow): TransferJobRow => ({
  ...r,
  attempts: Number(r.attempts),
  published_at: r.published_at === null ? null : Number(r.published_at),
  cleanup_after: r.cleanup_after === null ? null : Number(r.cleanup_after),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

/**
 * A job for the blob, to be published by the relay: a new one, or a finished one (done or failed) started
 * afresh. A queued or running job is left as it is (its message is on its way); false then. Joins the
 * caller's transaction, if any.
 */
export async function enqueueTransfer(db: Db, sha256: string, now: number): Promise<boolean> {
  // A missing job is inserted as finished first and then started like any finished one: the shape that
  // does not deadlock (see insertOrUpdate).
  const finished = {
    blob_sha256: sha256,
    state: "done" as const,
    attempts: 0,
    last_error: null,
    published_at: null,
    target_location: null,
    cleanup_location: null,
    cleanup_after: null,
    created_at: now,
    updated_at: now,
    traceparent: null,
  };
  const traceparent = activeTraceparent() ?? null;
  return transact(db, async (tx) => {
    await insertOrUpdate(tx, tx.insertInto("transfer_jobs").values(finished), ["blob_sha256"]).execute();
    const res = await tx
      .updateTable("transfer_jobs")
      .set({
        state: "queued",
        attempts: 0,
        last_error: null,
        published_at: null,
        updated_at: now,
        traceparent,
      })
      .where("blob_sha256", "=", sha256)
      .where("state", "in", ["done", "failed"])
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  });
}

export async function getJob(db: Db, sha256: string): Promise<TransferJobRow | undefined> {
  const row = await db
    .selectFrom("transfer_jobs")
    .selectAll()
    .where("blob_sha256", "=", sha256)
    .executeTakeFirst();
  return row && num(row);
}

/**
 * Jobs for the relay to publish: never published, or queued/running without a sign of life for staleMs
 * (their message may be lost: publishing twice is harmless).
 */
export async function jobsToPublish(db: Db, now: number, staleMs: number, limit: number) {
  const rows = await db
    .selectFrom("transfer_jobs")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb("state", "=", "queued"), eb("published_at", "is", null)]),
        eb.and([
          eb("state", "in", ["queued", "running"]),
          eb("published_at", "<=", now - staleMs),
          eb("updated_at", "<=", now - staleMs),
        ]),
      ]),
    )
    .orderBy("updated_at")
    .limit(limit)
    .execute();
  return rows.map(num);
}

export async function markPublished(db: Db, sha256s: string[], now: number): Promise<void> {
  if (sha256s.length === 0) return;
  await db
    .updateTable("transfer_jobs")
    .set({ published_at: now })
    .where("blob_sha256", "in", sha256s)
    .execute();
}

export type Begin =
  | { action: "copy"; blob: BlobsTable; previousTarget: string | null }
  | { action: "skip"; reason: string };

/**
 * Starts an attempt: records `target` (the S3 key it will write) and returns the blob to copy plus the key
 * of an earlier attempt to clean up — or "skip" when there is nothing to move (the content is on S3
 * already, or was deleted), which ends the job as done.
 */
export async function beginAttempt(
  db: Db,
  sha256: string,
  attempt: number,
  target: string,
  now: number,
): Promise<Begin> {
  return transact(db, async (tx) => {
    const blob = await tx.selectFrom("blobs").selectAll().where("sha256", "=", sha256).executeTakeFirst();
    const job = await tx
      .selectFrom("transfer_jobs")
      .select(["target_location"])
      .where("blob_sha256", "=", sha256)
      .executeTakeFirst();
    if (!job) await enqueueTransfer(tx, sha256, now);
    const reason = !blob
      ? "the content was deleted: nothing to move"
      : blob.state !== "ready"
        ? "the content is being deleted: nothing to move"
        : blob.backend !== "local"
          ? `the content is on ${blob.backend} already`
          : undefined;
    if (!blob || reason) {
      await tx
        .updateTable("transfer_jobs")
        .set({ state: "done", attempts: attempt, last_error: null, updated_at: now })
        .where("blob_sha256", "=", sha256)
        .execute();
      return { action: "skip", reason: reason ?? "" };
    }
    await tx
      .updateTable("transfer_jobs")
      .set({ state: "running", attempts: attempt, target_location: target, updated_at: now })
      .where("blob_sha256", "=", sha256)
      .execute();
    return {
      action: "copy",
      blob: { ...blob, size: Number(blob.size) },
      previousTarget: job?.target_location ?? null,
    };
  });
}

/** A sign of life of a long copy (keeps the relay from publishing the job again). */
export async function touchAttempt(db: Db, sha256: string, target: string, now: number): Promise<void> {
  await db
    .updateTable("transfer_jobs")
    .set({ updated_at: now })
    .where("blob_sha256", "=", sha256)
    .where("target_location", "=", target)
    .execute();
}

export type SwitchOutcome = "switched" | "superseded" | "gone";

/**
 * Points the blob at its new copy, in one transaction, if this attempt is still the latest one (the fence)
 * and the row still names the local copy `from`; the local copy is then left for deletion after
 * `cleanupAfter`. Doing it again after success answers "switched" too. "superseded": a later attempt owns
 * the job; "gone": the blob was deleted or moved elsewhere — the caller deletes its new copy either way.
 */
export async function switchLocation(
  db: Db,
  move: { sha256: string; from: string; toBackend: string; to: string; cleanupAfter: number },
  now: number,
): Promise<SwitchOutcome> {
  return transact(db, async (tx) => {
    const job = await tx
      .selectFrom("transfer_jobs")
      .select(["target_location"])
      .where("blob_sha256", "=", move.sha256)
      .executeTakeFirst();
    const blob = await tx
      .selectFrom("blobs")
      .select(["backend", "location", "state"])
      .where("sha256", "=", move.sha256)
      .executeTakeFirst();
    if (blob?.backend === move.toBackend && blob.location === move.to) return "switched";
    if (job?.target_location !== move.to) return "superseded";
    const res = await tx
      .updateTable("blobs")
      .set({ backend: move.toBackend, location: move.to })
      .where("sha256", "=", move.sha256)
      .where("backend", "=", "local")
      .where("location", "=", move.from)
      .where("state", "=", "ready")
      .executeTakeFirst();
    const switched = Number(res.numUpdatedRows) === 1;
    await tx
      .updateTable("transfer_jobs")
      .set({
        state: "done",
        last_error: switched ? null : "the content was deleted or moved meanwhile: nothing to move",
        target_location: null,
        updated_at: now,
        ...(switched ? { cleanup_location: move.from, cleanup_after: move.cleanupAfter } : {}),
      })
      .where("blob_sha256", "=", move.sha256)
      .execute();
    return switched ? "switched" : "gone";
  });
}

/**
 * A failed attempt of the latest attempt: queued again (backoff) or failed for good (a dead letter). A
 * report that comes after a later attempt began (the queue hands the job on before the row is written)
 * changes nothing.
 */
export async function failAttempt(
  db: Db,
  f: { sha256: string; attempt: number; error: string; dead: boolean },
  now: number,
): Promise<void> {
  await db
    .updateTable("transfer_jobs")
    .set({
      state: f.dead ? "failed" : "queued",
      attempts: f.attempt,
      last_error: f.error.slice(0, MAX_ERROR),
      updated_at: now,
    })
    .where("blob_sha256", "=", f.sha256)
    .where("state", "in", ["queued", "running"])
    .where("attempts", "<=", f.attempt)
    .execute();
}

/** Failed jobs (dead letters), by SHA-256 after `after`. */
export async function failedJobs(db: Db, after: string, limit: number): Promise<TransferJobRow[]> {
  const rows = await db
    .selectFrom("transfer_jobs")
    .selectAll()
    .where("state", "=", "failed")
    .where("blob_sha256", ">", after)
    .orderBy("blob_sha256")
    .limit(limit)
    .execute();
  return rows.map(num);
}

/** A failed job queued again with its attempts reset; false when the job is not failed. */
export async function retryFailed(db: Db, sha256: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable("transfer_jobs")
    .set({ state: "queued", attempts: 0, published_at: null, updated_at: now })
    .where("blob_sha256", "=", sha256)
    .where("state", "=", "failed")
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Jobs for every ready local blob after `after` (by SHA-256), up to `limit` blobs: the operator's "migrate
 * everything". Returns how many blobs were looked at, how many got a job, and the last SHA-256 seen.
 */
export async function enqueueLocalBlobs(db: Db, after: string, limit: number, now: number) {
  const blobs = await db
    .selectFrom("blobs")
    .select("sha256")
    .where("backend", "=", "local")
    .where("state", "=", "ready")
    .where("sha256", ">", after)
    .orderBy("sha256")
    .limit(limit)
    .execute();
  let enqueued = 0;
  for (const b of blobs) if (await enqueueTransfer(db, b.sha256, now)) enqueued++;
  return { seen: blobs.length, enqueued, last: blobs.at(-1)?.sha256 ?? after };
}

export async function countLocalBlobs(db: Db): Promise<number> {
  const row = await db
    .selectFrom("blobs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("backend", "=", "local")
    .where("state", "=", "ready")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countJobs(db: Db): Promise<Record<TransferJobRow["state"], number>> {
  const rows = await db
    .selectFrom("transfer_jobs")
    .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("state")
    .execute();
  const out = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of rows) out[r.state] = Number(r.n);
  return out;
}

/** Jobs changed at or after `since` (epoch ms), oldest change first: the feed of WatchTransfers. */
export async function changedSince(db: Db, since: number, limit: number): Promise<TransferJobRow[]> {
  const rows = await db
    .selectFrom("transfer_jobs")
    .selectAll()
    .where("updated_at", ">=", since)
    .orderBy("updated_at")
    .orderBy("blob_sha256")
    .limit(limit)
    .execute();
  return rows.map(num);
}

/** Local copies whose grace period is over. */
export async function dueCleanups(db: Db, now: number, limit: number) {
  return db
    .selectFrom("transfer_jobs")
    .select(["blob_sha256", "cleanup_location"])
    .where("cleanup_after", "<=", now)
    .where("cleanup_location", "is not", null)
    .limit(limit)
    .execute();
}

/** The local copy was deleted. */
export async function finishCleanup(db: Db, sha256: string, location: string): Promise<void> {
  await db
    .updateTable("transfer_jobs")
    .set({ cleanup_location: null, cleanup_after: null })
    .where("blob_sha256", "=", sha256)
    .where("cleanup_location", "=", location)
    .execute();
}
