// The transfer worker's logic: moves content from local disk to S3, one queue message per blob.
// An attempt, every step idempotent (a message may come twice, a process may die anywhere):
//   1. BeginTransferAttempt records the fresh S3 key it will write (before writing: a later attempt can
//      then clean up after this one) and returns the blob — or "skip" when it is no longer on local disk.
//   2. An earlier attempt's key, if any, is cleaned up (its unfinished multipart upload aborted, a
//      finished object deleted): nothing partial or duplicate stays in the bucket.
//   3. The local bytes are streamed to the key, S3-side checked against the blob's size and SHA-256 while
//      they stream (the object only appears if they match), then read back and hashed again.
//   4. SwitchBlobLocation points the blob row at the new copy in one transaction — only if this attempt
//      is still the latest and the row still names the local copy. Otherwise the new copy is deleted.
//   5. The local copy is deleted after a grace period (reads that opened it before the switch finish),
//      by the cleanup pass below, from the durable record the switch left.
// Readers resolve a blob's location when they open it, so downloads work before, during and after.
// Failures go back to the queue (backoff for TRANSFER_RETRY_FOR_SECONDS, then a dead letter; failure.ts
// says which failures end sooner) and are mirrored in the job row; dead letters S3 caused are re-driven
// when it answers again (redrive.ts).
// Each state change is published on the event bus (topic "transfers", WatchTransfers) right after meta
// recorded it: queued (the relay hands a new or re-queued job to the queue), running, done (moved, or
// nothing to move), queued again after a failed attempt (attempts and last_error say it was retried) and
// failed (a dead letter). The job as meta holds it is published, read back after each change.

import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { BlobRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { SwitchBlobLocationResponse_Outcome } from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import { type BlobStore, canRelocate } from "../lib/blobstore/types.ts";
import type { Publishers } from "../lib/bus/events.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { TransferMetrics } from "../lib/metrics/transfer.ts";
import { every } from "../lib/periodic.ts";
import type { Message, Queue } from "../lib/queue/types.ts";
import { traceDelivery } from "../lib/tracing/job.ts";
import { isHex } from "../lib/validate.ts";
import { type TransferCounters, transferCounters } from "./counters.ts";
import { describe, failureOf, onS3 } from "./failure.ts";
import { publicJob } from "./job-record.ts";
import { redriveWhenS3IsBack } from "./redrive.ts";

export interface TransferDeps {
  meta: MetaClient;
  queue: Queue;
  /** Where the content is now. */
  local: BlobStore;
  /** Where it goes: an S3 store (it must have the Relocation capability: newLocation and abortStage). */
  target: BlobStore;
  /** How long a moved blob's local copy stays for reads that opened it before the switch. */
  deleteGraceMs: number;
  /** A live job without a sign of life for this long is published again (its message may be lost). */
  republishMs: number;
  now: () => number;
  log: Logger;
  /** Where outcomes are counted (this process's counters when unset). */
  counters?: TransferCounters;
  /** Attempts, their duration, bytes moved (workers/lib/metrics/transfer.ts); none in most tests. */
  metrics?: TransferMetrics;
  /** Where each job's state changes are published (the event bus); nowhere when unset. */
  events?: Pick<Publishers, "transferChanged">;
}

const countersOf = (deps: Pick<TransferDeps, "counters">) => deps.counters ?? transferCounters;

export type JobOutcome = "moved" | "skipped" | "discarded" | "retry" | "dead";

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Publishes the job of `sha256` as meta holds it now, right after a change meta answered. Awaited, so
 * that one job's changes go out in the order they were made; never throws (the job goes on regardless).
 */
async function announce(deps: TransferDeps, sha256: string): Promise<void> {
  if (!deps.events) return;
  try {
    const { job } = await deps.meta.getTransferJob({ blobSha256: sha256 });
    if (job) deps.events.transferChanged(publicJob(job));
  } catch (err) {
    deps.log.warn("could not publish a transfer job's change", { sha256, err: message(err) });
  }
}

/** Removes whatever an attempt left at `location`: an unfinished multipart upload, or a finished object. */
async function discardTarget(deps: TransferDeps, location: string): Promise<void> {
  await onS3(async () => {
    if (canRelocate(deps.target)) await deps.target.abortStage(location);
    await deps.target.delete(location);
  });
}

/** Hashes the object at `location` as S3 returns it: what landed is what was meant to land. */
async function verifyLanded(deps: TransferDeps, location: string, blob: BlobRecord): Promise<void> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  await onS3(async () => {
    for await (const chunk of (await deps.target.read(location)) as unknown as AsyncIterable<Uint8Array>) {
      hasher.update(chunk);
      size += chunk.byteLength;
    }
  });
  const sha256 = hasher.digest("hex");
  if (size !== Number(blob.size) || sha256 !== blob.sha256)
    throw new Error(`the copy read back differs (size ${size}, sha256 ${sha256})`);
}

/** Renews the message and the job row while a long copy runs, so neither is handed to someone else. */
function heartbeat(deps: TransferDeps, msg: Message, sha256: string, target: string): () => void {
  const every = Math.max(100, Math.floor(deps.queue.options.visibilityMs / 3));
  const timer = setInterval(() => {
    deps.queue.touch(msg).catch((err) => deps.log.warn("queue touch failed", { sha256, err: message(err) }));
    deps.meta
      .touchTransferAttempt({ blobSha256: sha256, targetLocation: target })
      .catch((err) => deps.log.warn("job touch failed", { sha256, err: message(err) }));
  }, every);
  return () => clearInterval(timer);
}

/** One delivery of a transfer message. Never throws: a failure is reported to the queue and the job row. */
export async function runJob(deps: TransferDeps, msg: Message): Promise<JobOutcome> {
  const sha256 = msg.key;
  if (!isHex(sha256, 64)) {
    deps.log.error("dropping a malformed transfer message", { key: sha256 });
    await deps.queue.ack(msg);
    return "skipped";
  }
  if (!canRelocate(deps.target)) throw new Error("the transfer target store cannot name locations (not S3)");
  const target = deps.target.newLocation();
  let switching = false;
  let stopHeartbeat = () => {};
  try {
    const begin = await deps.meta.beginTransferAttempt({
      blobSha256: sha256,
      attempt: msg.attempt,
      targetLocation: target,
    });
    const blob = begin.blob;
    await announce(deps, sha256); // running, or done when there is nothing to move
    if (!blob) {
      deps.log.info("transfer skipped", { sha256, reason: begin.skipReason });
      await deps.queue.ack(msg);
      return "skipped";
    }
    stopHeartbeat = heartbeat(deps, msg, sha256, target);
    const previous = begin.previousTargetLocation;
    if (previous && previous !== blob.location) await discardTarget(deps, previous);

    const started = deps.now();
    const source = await deps.local.read(blob.location);
    await onS3(async () => {
      const staged = await deps.target.stage(source, {
        expectedSize: Number(blob.size),
        expectedSha256: blob.sha256,
        location: target,
      });
      await staged.commit();
    });
    await verifyLanded(deps, target, blob);

    switching = true; // from here on, the blob row may name `target`: never delete it on a failure
    const { outcome } = await deps.meta.switchBlobLocation({
      blobSha256: sha256,
      fromLocation: blob.location,
      toBackend: deps.target.backend,
      toLocation: target,
      deleteLocalAfter: timestampFromMs(deps.now() + deps.deleteGraceMs),
    });
    // Done (a superseded attempt changed nothing: the latest one tells its own).
    if (outcome !== SwitchBlobLocationResponse_Outcome.SUPERSEDED) await announce(deps, sha256);
    if (outcome !== SwitchBlobLocationResponse_Outcome.SWITCHED) {
      await onS3(() => deps.target.delete(target));
      deps.log.info("transfer discarded", { sha256, outcome: SwitchBlobLocationResponse_Outcome[outcome] });
      await deps.queue.ack(msg);
      return "discarded";
    }
    await deps.queue.ack(msg);
    countersOf(deps).add("succeeded");
    deps.metrics?.moved(Number(blob.size));
    deps.log.info("transferred", { sha256, size: String(blob.size), to: target, ms: deps.now() - started });
    return "moved";
  } catch (err) {
    stopHeartbeat();
    const error = describe(err);
    if (!switching) {
      await discardTarget(deps, target).catch((e) =>
        deps.log.warn("could not clean up a failed copy (the next attempt will)", {
          sha256,
          target,
          err: message(e),
        }),
      );
    }
    return failed(deps, msg, error, failureOf(err));
  } finally {
    stopHeartbeat();
  }
}

/**
 * Reports a failed attempt: the queue decides (its budget) whether it runs again, and the job row says so.
 * Never throws.
 */
async function failed(
  deps: TransferDeps,
  msg: Message,
  error: string,
  how: ReturnType<typeof failureOf>,
): Promise<"retry" | "dead"> {
  const sha256 = msg.key;
  let outcome: "retry" | "dead";
  try {
    outcome = await deps.queue.fail(msg, error, how);
  } catch (e) {
    // The message comes back after its visibility timeout anyway.
    deps.log.error("could not report a failed transfer attempt to the queue", { sha256, err: message(e) });
    return "retry";
  }
  const dead = outcome === "dead";
  countersOf(deps).add(dead ? "deadLettered" : "retried");
  deps.log.warn("transfer attempt failed", {
    sha256,
    attempt: msg.attempt,
    dead,
    cause: how.cause,
    err: error,
  });
  try {
    await deps.meta.failTransferAttempt({ blobSha256: sha256, attempt: msg.attempt, error, dead });
    await announce(deps, sha256); // queued again (retried) or failed (dead)
  } catch (e) {
    // The row stays "running": the relay publishes the job again once it looks stale.
    deps.log.error("could not record a failed transfer attempt", { sha256, err: message(e) });
  }
  return outcome;
}

/** The outbox relay: hands jobs that are not (or no longer visibly) in the queue to it. */
export async function relay(deps: TransferDeps, limit = 500): Promise<number> {
  const { jobs } = await deps.meta.listTransferJobsToPublish({ staleMs: BigInt(deps.republishMs), limit });
  for (const job of jobs) await deps.queue.publish(job.blobSha256, job.blobSha256, job.traceparent);
  if (jobs.length > 0)
    await deps.meta.markTransferJobsPublished({ blobSha256s: jobs.map((j) => j.blobSha256) });
  // Queued: jobs never handed to the queue before (a stale one published again changed no state).
  for (const job of jobs) if (!job.publishedAt) deps.events?.transferChanged(publicJob(job));
  return jobs.length;
}

/** Deletes the local copies of moved blobs whose grace period is over. */
export async function deleteMovedCopies(
  deps: Pick<TransferDeps, "meta" | "local">,
  limit = 100,
): Promise<number> {
  const { cleanups } = await deps.meta.listDueTransferCleanups({ limit });
  for (const c of cleanups) {
    await deps.local.delete(c.location);
    await deps.meta.finishTransferCleanup({ blobSha256: c.blobSha256, location: c.location });
  }
  return cleanups.length;
}

export interface TransferWorker {
  /** Runs the relay and the cleanup pass now (tests, MigrateAll). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `concurrency` consumers and, every pollMs, the relay and the cleanup pass; every redriveMs (60 s
 * unless set) it re-drives the dead letters S3 caused if S3 answers again, and logs the counters when they
 * changed. stop() lets running copies finish for up to graceMs; one cut short is simply retried later.
 */
export function startTransferWorker(
  deps: TransferDeps,
  opts: { consumer: string; concurrency: number; pollMs: number; graceMs: number; redriveMs?: number },
): TransferWorker {
  let stopped = false;
  const consumers = Array.from({ length: opts.concurrency }, async (_, i) => {
    const name = `${opts.consumer}-${i}`;
    while (!stopped) {
      try {
        for (const msg of await deps.queue.receive(name, 1, 1000)) {
          const ended = deps.metrics?.attempt();
          const outcome = await traceDelivery("transfer", msg, () => runJob(deps, msg));
          ended?.(outcome);
        }
      } catch (err) {
        if (stopped) break;
        deps.log.warn("receiving transfer jobs failed", { err: message(err) });
        await Bun.sleep(1000);
      }
    }
  });
  let ticking: Promise<void> | undefined;
  const tick = () => {
    ticking ??= (async () => {
      try {
        await relay(deps);
        await deleteMovedCopies(deps);
      } catch (err) {
        deps.log.warn("transfer relay or cleanup failed", { err: message(err) });
      } finally {
        ticking = undefined;
      }
    })();
    return ticking;
  };
  const timer = setInterval(tick, opts.pollMs);
  void tick();
  let logged = JSON.stringify(countersOf(deps).snapshot());
  const stopRedrive = every((opts.redriveMs ?? 60_000) / 1000, "transfer re-drive", deps.log, async () => {
    await redriveWhenS3IsBack(deps);
    const counts = countersOf(deps).snapshot();
    if (JSON.stringify(counts) === logged) return;
    logged = JSON.stringify(counts);
    deps.log.info("transfer counts", { ...counts });
  });
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      stopRedrive();
      await Promise.race([Promise.all([...consumers, ticking]), Bun.sleep(opts.graceMs)]);
    },
  };
}
