// filestore.transfer.v1.TransferService: job status, dead letters, retries, "migrate everything", and a
// feed of job changes. For operators only: the caller must be a signed-in user named in ADMIN_USERS
// (PermissionDenied otherwise; nobody when the list is empty). The job rows in the database are the
// source of truth; the queue's own dead-letter list is kept in step on retries.
import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { TransferJobRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { JobState, TransferService } from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { requireIdentity } from "../lib/context.ts";
import { failedPrecondition, invalidArgument, permissionDenied } from "../lib/errors.ts";
import type { ServiceModule } from "../lib/server.ts";
import type { StreamLimit } from "../lib/stream-limit.ts";
import { redriveJob } from "./redrive.ts";
import type { TransferDeps } from "./transfer.ts";

export interface TransferServiceDeps extends Pick<TransferDeps, "meta" | "queue" | "now" | "counters"> {
  /** Lower-cased usernames allowed to call the service. */
  admins: string[];
  /** Runs the relay now (so that retried and migrated jobs start without waiting for the next poll). */
  kick(): Promise<void>;
  /** False when this process has no S3 store: nothing would run the jobs. */
  canMove: boolean;
  /** How often the streams look at the database (ms). */
  pollMs?: number;
  /** Open WatchTransfers streams per operator in this process (TRANSFER_MAX_WATCHES_PER_USER). */
  watches: StreamLimit;
}

const HEX64 = /^[0-9a-f]{64}$/;
const states: Record<string, JobState> = {
  queued: JobState.QUEUED,
  running: JobState.RUNNING,
  done: JobState.DONE,
  failed: JobState.FAILED,
};

const job = (j: TransferJobRecord | undefined) =>
  j && {
    blobSha256: j.blobSha256,
    state: states[j.state] ?? JobState.UNSPECIFIED,
    attempts: j.attempts,
    lastError: j.lastError,
    updatedAt: j.updatedAt,
  };

function sha256Of(value: string, field = "blob_sha256"): string {
  const v = value.toLowerCase();
  if (!HEX64.test(v)) throw invalidArgument(`${field} must be 64 hexadecimal digits`);
  return v;
}

function requireOperator(ctx: HandlerContext, admins: string[]): void {
  const who = requireIdentity(ctx);
  if (!admins.includes(who.username.toLowerCase()))
    throw permissionDenied("TransferService is for operators: an administrator must list you in ADMIN_USERS");
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

const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : 0);

export function transferModule(deps: TransferServiceDeps): ServiceModule {
  const pollMs = deps.pollMs ?? 1000;
  return {
    services: [TransferService],
    routes(router: ConnectRouter) {
      router.service(TransferService, {
        async getTransferJob(req, ctx) {
          requireOperator(ctx, deps.admins);
          const res = await deps.meta.getTransferJob({ blobSha256: sha256Of(req.blobSha256) });
          return { job: job(res.job) };
        },

        async listDeadLetters(req, ctx) {
          requireOperator(ctx, deps.admins);
          const limit = req.pageSize > 0 ? Math.min(req.pageSize, 1000) : 100;
          const after = req.pageToken ? sha256Of(req.pageToken, "page_token") : "";
          const { jobs } = await deps.meta.listFailedTransferJobs({ afterSha256: after, limit });
          return {
            jobs: jobs.map((j) => job(j) as NonNullable<ReturnType<typeof job>>),
            nextPageToken: jobs.length === limit ? (jobs.at(-1)?.blobSha256 ?? "") : "",
          };
        },

        async retryDeadLetter(req, ctx) {
          requireOperator(ctx, deps.admins);
          const sha256 = sha256Of(req.blobSha256);
          const res = await deps.meta.retryTransferJob({ blobSha256: sha256 });
          // Its dead letters go back to the queue (all of them: every page is looked at); without any
          // (the queue lost them), the job row (published_at unset) makes the relay publish it afresh.
          await redriveJob(deps, sha256);
          await deps.kick();
          return { job: job(res.job) };
        },

        async *migrateAll(_req, ctx) {
          requireOperator(ctx, deps.admins);
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
            if ((p.queued === 0n && p.running === 0n) || ctx.signal.aborted) return;
            await pause(pollMs, ctx.signal);
          }
        },

        async *watchTransfers(req, ctx) {
          requireOperator(ctx, deps.admins);
          const only = req.blobSha256 ? sha256Of(req.blobSha256) : "";
          yield* deps.watches.run(requireIdentity(ctx).userId, ctx.signal, () =>
            jobChanges(deps, only, ctx.signal),
          );
        },
      });
    },
  };
}

/** Changes of transfer jobs (of one blob when `only` is set) from a minute ago on, until `signal` aborts. */
async function* jobChanges(deps: TransferServiceDeps, only: string, signal: AbortSignal) {
  const pollMs = deps.pollMs ?? 1000;
  let since = deps.now() - 60_000;
  // Changes already sent at the current `since` millisecond (the query includes it).
  let sent = new Set<string>();
  while (!signal.aborted) {
    const { jobs } = await deps.meta.listChangedTransferJobs({
      since: timestampFromMs(since),
      limit: 500,
    });
    for (const j of jobs) {
      const at = ms(j.updatedAt);
      const id = `${j.blobSha256}@${at}:${j.state}:${j.attempts}`;
      if (at > since) {
        since = at;
        sent = new Set();
      }
      if (sent.has(id)) continue;
      sent.add(id);
      if (!only || j.blobSha256 === only) yield { job: job(j) };
    }
    if (jobs.length < 500) await pause(pollMs, signal);
  }
}
