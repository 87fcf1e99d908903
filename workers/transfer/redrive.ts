// Dead letters back into the queue: those of one job (an operator's RetryDeadLetter), or every one that S3
// caused, once S3 answers again (the transfer worker's timer; S3 is probed only while such letters exist).
// A revived message runs the job, so the job row is marked published: the relay does not publish it twice.
import { Code, ConnectError } from "@connectrpc/connect";
import { canPing } from "../lib/blobstore/types.ts";
import { allDeadLetters, type DeadLetter, type Queue } from "../lib/queue/types.ts";
import { transferCounters } from "./counters.ts";
import { S3_FAILED } from "./failure.ts";
import type { TransferDeps } from "./transfer.ts";

/** How long the "is S3 back?" probe may take before it counts as "no". */
const PROBE_TIMEOUT_MS = 10_000;

type RedriveDeps = Pick<TransferDeps, "meta" | "queue" | "counters">;

/** Revives the given dead letters and marks their jobs published; returns how many were revived. */
async function revive(deps: RedriveDeps, letters: DeadLetter[]): Promise<number> {
  const revived = new Set<string>();
  for (const d of letters) if (await deps.queue.retryDead(d.id)) revived.add(d.key);
  if (revived.size > 0) await deps.meta.markTransferJobsPublished({ blobSha256s: [...revived] });
  (deps.counters ?? transferCounters).add("redriven", revived.size);
  return revived.size;
}

async function lettersWhere(queue: Queue, keep: (d: DeadLetter) => boolean): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for await (const d of allDeadLetters(queue)) if (keep(d)) out.push(d);
  return out;
}

/**
 * The queue's side of RetryDeadLetter, after the job row was set queued again: every dead letter of the
 * job goes back to the queue, however many dead letters there are. Returns how many.
 */
export async function redriveJob(deps: RedriveDeps, sha256: string): Promise<number> {
  return revive(deps, await lettersWhere(deps.queue, (d) => d.key === sha256));
}

/** Resolves when S3 answers, rejects when it does not (or takes too long to). */
async function probe(deps: Pick<TransferDeps, "target">): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("S3 did not answer in time")), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([canPing(deps.target) ? deps.target.ping() : undefined, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * When dead letters that S3 caused exist and S3 answers again, puts them back (their job rows queued
 * again) and logs one line with the counts. Returns how many jobs were re-driven.
 */
export async function redriveWhenS3IsBack(deps: TransferDeps): Promise<number> {
  const letters = await lettersWhere(deps.queue, (d) => d.cause === S3_FAILED);
  if (letters.length === 0) return 0;
  try {
    await probe(deps);
  } catch {
    return 0; // still away: the letters wait for the next look
  }
  for (const key of new Set(letters.map((d) => d.key))) {
    try {
      await deps.meta.retryTransferJob({ blobSha256: key });
    } catch (err) {
      // Retried by an operator meanwhile, or forgotten: the revived message sorts it out (it skips).
      const code = ConnectError.from(err).code;
      if (code !== Code.FailedPrecondition && code !== Code.NotFound) throw err;
    }
  }
  const redriven = await revive(deps, letters);
  deps.log.info("re-drove dead letters: S3 answers again", {
    jobs: redriven,
    totals: (deps.counters ?? transferCounters).snapshot(),
  });
  return redriven;
}
