// TransferService's work as plain functions over its dependencies: job lookups, dead-letter pages,
// retries and "migrate everything" (service.ts checks the caller first; the feed of job changes: watch.ts).
import { durationFromMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { TransferJobRecord } from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import { JobState } from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import type { EventBus } from "../lib/bus/types.ts";
import { failedPrecondition, invalidArgument } from "../lib/errors.ts";
import type { StreamLimit } from "../lib/stream-limit.ts";
import { pageSize as clampedPageSize, isHex } from "../lib/validate.ts";
import { JOB_STATES, publicJob } from "./job-record.ts";
import { redriveJob } from "./redrive.ts";
import type { TransferDeps } from "./transfer.ts";

export interface TransferServiceDeps
  extends Pick<TransferDeps, "meta" | "queue" | "now" | "counters" | "events"> {
  /** Lower-cased usernames allowed to call the service. */
  admins: string[];
  /** Runs the relay now (so that retried and migrated jobs start without waiting for the next poll). */
  kick(): Promise<void>;
  /** False when this process has no S3 store: nothing would run the jobs. */
  canMove: boolean;
  /** How often MigrateAll looks at the queue's figures (ms). */
  pollMs?: number;
  /** The event bus WatchTransfers reads (the transfer workers publish every job's changes there). */
  bus: EventBus;
  /** Open WatchTransfers streams per operator in this process (TRANSFER_MAX_WATCHES_PER_USER). */
  watches: StreamLimit;
}

const job = (j: TransferJobRecord | undefined) => j && publicJob(j);

/** The meta name of a state asked for: "" for every state; InvalidArgument for a number not in JobState. */
function stateName(state: JobState): string {
  if (state === JobState.UNSPECIFIED) return "";
  const name = Object.keys(JOB_STATES).find((k) => JOB_STATES[k] === state);
  if (!name) throw invalidArgument(`state ${state} is not a JobState: use QUEUED, RUNNING, DONE or FAILED`);
  return name;
}

export function sha256Of(value: string, field = "blob_sha256"): string {
  const v = value.toLowerCase();
  if (!isHex(v, 64)) throw invalidArgument(`${field} must be 64 hexadecimal digits`);
  return v;
}

/** Waits `ms`, or less when the call is cancelled. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export async function getJob(deps: TransferServiceDeps, blobSha256: string) {
  const res = await deps.meta.getTransferJob({ blobSha256: sha256Of(blobSha256) });
  return { job: job(res.job) };
}

export async function deadLetters(deps: TransferServiceDeps, pageSize: number, pageToken: string) {
  const limit = clampedPageSize(pageSize);
  const after = pageToken ? sha256Of(pageToken, "page_token") : "";
  const { jobs } = await deps.meta.listFailedTransferJobs({ afterSha256: after, limit });
  return {
    jobs: jobs.map(publicJob),
    nextPageToken: jobs.length === limit ? (jobs.at(-1)?.blobSha256 ?? "") : "",
  };
}

const HOUR_MS = 3_600_000;

/** The queue at a glance: jobs by state, the oldest queued job's wait, the bytes still to move. */
export async function stats(deps: TransferServiceDeps) {
  const now = deps.now();
  const c = await deps.meta.countTransferJobs({ doneSince: timestampFromMs(now - HOUR_MS) });
  return {
    queued: c.queued,
    running: c.running,
    failed: c.failed,
    done: c.done,
    doneLastHour: c.doneSince,
    localBlobs: c.localBlobs,
    oldestQueuedAt: c.oldestQueuedAt,
    oldestQueuedAge: durationFromMs(Math.max(0, c.oldestQueuedAt ? now - timestampMs(c.oldestQueuedAt) : 0)),
    bytesWaiting: c.waitingBytes,
  };
}

/** A page of jobs by last change (meta checks the page size and token: InvalidArgument). */
export async function listJobs(
  deps: TransferServiceDeps,
  req: { state: JobState; pageSize: number; pageToken: string; oldestFirst: boolean },
) {
  const page = await deps.meta.listTransferJobs({
    state: stateName(req.state),
    pageSize: req.pageSize,
    pageToken: req.pageToken,
    oldestFirst: req.oldestFirst,
  });
  return {
    jobs: page.jobs.map(publicJob),
    nextPageToken: page.nextPageToken,
  };
}

export async function retryDeadLetter(deps: TransferServiceDeps, blobSha256: string) {
  const sha256 = sha256Of(blobSha256);
  const res = await deps.meta.retryTransferJob({ blobSha256: sha256 });
  if (res.job) deps.events?.transferChanged(publicJob(res.job));
  // Its dead letters go back to the queue (all of them: every page is looked at); without any
  // (the queue lost them), the job row (published_at unset) makes the relay publish it afresh.
  await redriveJob(deps, sha256);
  await deps.kick();
  return { job: job(res.job) };
}

/** Enqueues every blob still on local disk, then reports progress until no job is queued or running. */
export async function* migrateAll(deps: TransferServiceDeps, signal: AbortSignal) {
  const pollMs = deps.pollMs ?? 1000;
  if (!deps.canMove)
    throw failedPrecondition("no S3 store is configured (S3_*): there is nowhere to move content to");
  const total = (await deps.meta.countTransferJobs({})).localBlobs;
  let enqueued = 0n;
  const progress = async () => {
    const c = await deps.meta.countTransferJobs({});
    return { total, enqueued, queued: c.queued, running: c.running, done: c.done, failed: c.failed };
  };
  let after = "";
  for (;;) {
    const page = await deps.meta.enqueueLocalBlobs({ afterSha256: after, limit: 500 });
    if (page.seen === 0) break;
    enqueued += BigInt(page.enqueued);
    after = page.lastSha256;
    yield await progress();
  }
  await deps.kick();
  let last = "";
  for (;;) {
    const p = await progress();
    const key = `${p.queued}/${p.running}/${p.done}/${p.failed}`;
    if (key !== last) yield p;
    last = key;
    if ((p.queued === 0n && p.running === 0n) || signal.aborted) return;
    await pause(pollMs, signal);
  }
}
