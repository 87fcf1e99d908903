// WatchTransfers: job state changes from the event bus as they happen (the transfer workers publish each
// one right after meta recorded it, transfer.ts), through the feed WatchFiles uses too (busFeed: resume
// after an event id, one `reload` when the bus no longer holds what came after it).
// Changes of one job may be published by different replicas (one relays it, another runs it), so they
// can reach the bus out of order by a hair: a change older than one already told for the same job is
// skipped, so that a watcher never sees a job go back (it may miss a state it passed through quickly).
import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { JobState, type TransferJob } from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { decodeTransferEvent } from "../lib/bus/events.ts";
import { busFeed } from "../lib/bus/feed.ts";
import { publicJob } from "./job-record.ts";
import type { TransferServiceDeps } from "./operations.ts";

/** How far back a watch without a cursor starts (the proto's "the last minute's changes"). */
const RECENT_MS = 60_000;
/** Jobs whose last change one watcher remembers (the oldest forgotten first). */
const REMEMBERED = 10_000;

type Key = [number, number, number];
const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : 0);
/** One job's changes in order: by time, then attempt; within an attempt "running" comes first. */
const keyOf = (j: TransferJob): Key => [ms(j.updatedAt), j.attempts, j.state === JobState.RUNNING ? 0 : 1];
const older = (a: Key, b: Key) => (a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] <= b[2]);

/** Remembers each job's last change told; answers false for a change not newer than it. */
function newerOnly() {
  const told = new Map<string, Key>();
  return (job: TransferJob): boolean => {
    const key = keyOf(job);
    const last = told.get(job.blobSha256);
    if (last && older(key, last)) return false;
    told.delete(job.blobSha256);
    told.set(job.blobSha256, key);
    if (told.size > REMEMBERED) told.delete(told.keys().next().value as string);
    return true;
  };
}

/**
 * Changes of transfer jobs (of one blob when `only` is set) until `signal` aborts. With a cursor, right
 * after that event. Without one, first the jobs changed in the last minute, read once from meta after the
 * subscription started (nothing falls between), then the live changes.
 */
export async function* jobChanges(
  deps: TransferServiceDeps,
  only: string,
  after: string,
  signal: AbortSignal,
) {
  const feed = busFeed(deps.bus, "transfers", after, signal, (body) => {
    const job = decodeTransferEvent(body);
    return job && (!only || job.blobSha256 === only) ? { job } : undefined;
  });
  const newer = newerOnly();
  if (!after) {
    await deps.bus.ready("transfers");
    const { jobs } = await deps.meta.listChangedTransferJobs({
      since: timestampFromMs(deps.now() - RECENT_MS),
      limit: 1000,
    });
    for (const record of jobs) {
      const job = publicJob(record);
      if ((!only || job.blobSha256 === only) && newer(job)) yield { job };
    }
  }
  for await (const item of feed) if (item.reload || newer(item.job)) yield item;
}
