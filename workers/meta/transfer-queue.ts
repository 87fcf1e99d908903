// The operators' view of the transfer queue: jobs a page at a time by last change (of one state or all),
// and the figures of GetTransferStats beyond the counts by state (the oldest queued job, the bytes still
// to move, the jobs done lately). Each reads one range of the indexes of migration 0020.
import type { Db } from "./db/database.ts";
import type { TransferState } from "./db/schema.ts";
import { InvalidCursorError } from "./files.ts";
import { decodeCursor, encodeCursor, pageSizeOf } from "./listing.ts";
import { num, type TransferJobRow } from "./transfer.ts";

export const STATES: readonly TransferState[] = ["queued", "running", "done", "failed"];

/** A job with its content's size (0 once the content is deleted). */
export type ListedJob = TransferJobRow & { size: number };

export interface JobListOptions {
  /** "" for every state. */
  state: string;
  oldestFirst: boolean;
  pageSize: number;
  pageToken: string;
}

/**
 * One page of jobs by last change (updated_at, ties by SHA-256), newest first unless oldestFirst. The
 * cursor is the last row's (updated_at, SHA-256), bound to the state and direction it was issued for.
 */
export async function listJobs(
  db: Db,
  o: JobListOptions,
): Promise<{ jobs: ListedJob[]; nextPageToken: string }> {
  if (o.state !== "" && !STATES.includes(o.state as TransferState))
    throw new InvalidCursorError(`state must be one of ${STATES.join(", ")} (or empty for every job)`);
  const size = pageSizeOf(o.pageSize);
  const q = `transfers:${o.state}:${o.oldestFirst ? "asc" : "desc"}`;
  const after = o.pageToken
    ? (decodeCursor(o.pageToken, q, ["number", "string"]) as [number, string])
    : undefined;
  const rows = await jobsAfter(db, o, after, size + 1);
  const jobs = rows.slice(0, size);
  const last = jobs.at(-1);
  const nextPageToken =
    rows.length > size && last ? encodeCursor(q, [last.updated_at, last.blob_sha256]) : "";
  return { jobs, nextPageToken };
}

/**
 * Up to `limit` jobs in listing order after the cursor's row: those changed at the cursor's time with a
 * later SHA-256, then those changed later. Two plain ranges of one index read in order (as ListFiles
 * does: the OR of the two made MariaDB merge indexes and sort).
 */
async function jobsAfter(
  db: Db,
  o: JobListOptions,
  after: [number, string] | undefined,
  limit: number,
): Promise<ListedJob[]> {
  const dir = o.oldestFirst ? "asc" : "desc";
  const past = o.oldestFirst ? ">" : "<";
  let query = db.selectFrom("transfer_jobs").selectAll();
  if (o.state) query = query.where("state", "=", o.state as TransferState);
  const page = async (q: typeof query, n: number) =>
    (await q.orderBy("blob_sha256", dir).limit(n).execute()).map(num);
  if (!after) return withSizes(db, await page(query.orderBy("updated_at", dir), limit));
  const [at, sha256] = after;
  const tail = await page(query.where("updated_at", "=", at).where("blob_sha256", past, sha256), limit);
  if (tail.length < limit)
    tail.push(
      ...(await page(query.where("updated_at", past, at).orderBy("updated_at", dir), limit - tail.length)),
    );
  return withSizes(db, tail);
}

/** The jobs with their content's sizes: one look-up by primary key for the page (a join in the listing
 * query made MariaDB sort the whole table instead of reading the index in order). */
async function withSizes(db: Db, jobs: TransferJobRow[]): Promise<ListedJob[]> {
  if (jobs.length === 0) return [];
  const rows = await db
    .selectFrom("blobs")
    .select(["sha256", "size"])
    .where(
      "sha256",
      "in",
      jobs.map((j) => j.blob_sha256),
    )
    .execute();
  const sizes = new Map(rows.map((r) => [r.sha256, Number(r.size)]));
  return jobs.map((j) => ({ ...j, size: sizes.get(j.blob_sha256) ?? 0 }));
}

/** The content size of one job's blob (0 when the content is gone). */
export async function jobSize(db: Db, sha256: string): Promise<number> {
  const row = await db.selectFrom("blobs").select("size").where("sha256", "=", sha256).executeTakeFirst();
  return Number(row?.size ?? 0);
}

/**
 * The queue beyond its counts: when the job queued longest was queued (its last change; undefined when
 * none is), the content bytes of queued and running jobs, and the jobs done at or after `doneSince`.
 */
export async function queueFigures(db: Db, doneSince: number | undefined) {
  const [oldest, waiting, done] = await Promise.all([
    db
      .selectFrom("transfer_jobs")
      .select((eb) => eb.fn.min("updated_at").as("at"))
      .where("state", "=", "queued")
      .executeTakeFirst(),
    db
      .selectFrom("transfer_jobs")
      .innerJoin("blobs", "blobs.sha256", "transfer_jobs.blob_sha256")
      .select((eb) => eb.fn.sum<number | string | null>("blobs.size").as("bytes"))
      .where("transfer_jobs.state", "in", ["queued", "running"])
      .executeTakeFirst(),
    doneSince === undefined
      ? undefined
      : db
          .selectFrom("transfer_jobs")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("state", "=", "done")
          .where("updated_at", ">=", doneSince)
          .executeTakeFirst(),
  ]);
  const at = oldest?.at;
  return {
    oldestQueuedAt: at === null || at === undefined ? undefined : Number(at),
    waitingBytes: Number(waiting?.bytes ?? 0),
    doneSince: Number(done?.n ?? 0),
  };
}
