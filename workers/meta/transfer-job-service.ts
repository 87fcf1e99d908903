// filestore.meta.v1.TransferJobService: the durable record of the jobs that move content from local disk
// to S3 (logic in transfer.ts).
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  SwitchBlobLocationResponse_Outcome,
  type TransferJobService,
} from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex, pageSize } from "../lib/validate.ts";
import { InvalidCursorError } from "./files.ts";
import { blobRecord, type MetaDeps, msOrUndefined } from "./records.ts";
import * as transfer from "./transfer.ts";
import * as queue from "./transfer-queue.ts";

const transferJobRecord = (j: transfer.TransferJobRow & { size?: number }) => ({
  blobSha256: j.blob_sha256,
  state: j.state,
  attempts: j.attempts,
  lastError: j.last_error ?? "",
  targetLocation: j.target_location ?? "",
  publishedAt: msOrUndefined(j.published_at),
  cleanupLocation: j.cleanup_location ?? "",
  cleanupAfter: msOrUndefined(j.cleanup_after),
  createdAt: timestampFromMs(j.created_at),
  updatedAt: timestampFromMs(j.updated_at),
  traceparent: j.traceparent ?? "",
  size: BigInt(j.size ?? 0),
});

/** A page of jobs for operators; a bad state, page size or token is InvalidArgument. */
async function listJobs(db: MetaDeps["db"], o: queue.JobListOptions) {
  try {
    const page = await queue.listJobs(db, o);
    return { jobs: page.jobs.map(transferJobRecord), nextPageToken: page.nextPageToken };
  } catch (err) {
    if (err instanceof InvalidCursorError) throw invalidArgument(err.message);
    throw err;
  }
}

const switchOutcomes = {
  switched: SwitchBlobLocationResponse_Outcome.SWITCHED,
  superseded: SwitchBlobLocationResponse_Outcome.SUPERSEDED,
  gone: SwitchBlobLocationResponse_Outcome.GONE,
};

export function transferJobService({ db, now }: MetaDeps): ServiceImpl<typeof TransferJobService> {
  return {
    async listTransferJobsToPublish(req) {
      const jobs = await transfer.jobsToPublish(db, now(), Number(req.staleMs), pageSize(req.limit));
      return { jobs: jobs.map(transferJobRecord) };
    },
    async markTransferJobsPublished(req) {
      for (const h of req.blobSha256s) hex(h, 64, "blob_sha256s");
      await transfer.markPublished(db, req.blobSha256s, now());
      return {};
    },
    async beginTransferAttempt(req) {
      if (!req.targetLocation || req.attempt < 1)
        throw invalidArgument("target_location and an attempt of 1 or more are required");
      const begin = await transfer.beginAttempt(
        db,
        hex(req.blobSha256, 64, "blob_sha256"),
        req.attempt,
        req.targetLocation,
        now(),
      );
      if (begin.action === "skip") return { skipReason: begin.reason };
      return {
        blob: blobRecord({ ...begin.blob, refcount: Number(begin.blob.refcount) }),
        previousTargetLocation: begin.previousTarget ?? "",
      };
    },
    async touchTransferAttempt(req) {
      await transfer.touchAttempt(db, hex(req.blobSha256, 64, "blob_sha256"), req.targetLocation, now());
      return {};
    },
    async switchBlobLocation(req) {
      if (!req.fromLocation || !req.toBackend || !req.toLocation || !req.deleteLocalAfter)
        throw invalidArgument("from_location, to_backend, to_location and delete_local_after are required");
      const outcome = await transfer.switchLocation(
        db,
        {
          sha256: hex(req.blobSha256, 64, "blob_sha256"),
          from: req.fromLocation,
          toBackend: req.toBackend,
          to: req.toLocation,
          cleanupAfter: timestampDate(req.deleteLocalAfter).getTime(),
        },
        now(),
      );
      return { outcome: switchOutcomes[outcome] };
    },
    async failTransferAttempt(req) {
      await transfer.failAttempt(
        db,
        {
          sha256: hex(req.blobSha256, 64, "blob_sha256"),
          attempt: req.attempt,
          error: req.error,
          dead: req.dead,
        },
        now(),
      );
      return {};
    },
    async getTransferJob(req) {
      const job = await transfer.getJob(db, hex(req.blobSha256, 64, "blob_sha256"));
      if (!job) throw notFound("this content has no transfer job");
      return { job: transferJobRecord({ ...job, size: await queue.jobSize(db, job.blob_sha256) }) };
    },
    async listFailedTransferJobs(req) {
      const after = req.afterSha256 ? hex(req.afterSha256, 64, "after_sha256") : "";
      const jobs = await transfer.failedJobs(db, after, pageSize(req.limit));
      return { jobs: jobs.map(transferJobRecord) };
    },
    async retryTransferJob(req) {
      const sha256 = hex(req.blobSha256, 64, "blob_sha256");
      if (!(await transfer.retryFailed(db, sha256, now()))) {
        const job = await transfer.getJob(db, sha256);
        if (!job) throw notFound("this content has no transfer job");
        throw failedPrecondition(`the transfer job is ${job.state}, not failed: nothing to retry`);
      }
      const job = await transfer.getJob(db, sha256);
      return { job: job && transferJobRecord(job) };
    },
    async enqueueLocalBlobs(req) {
      const after = req.afterSha256 ? hex(req.afterSha256, 64, "after_sha256") : "";
      const page = await transfer.enqueueLocalBlobs(db, after, pageSize(req.limit), now());
      return { seen: page.seen, enqueued: page.enqueued, lastSha256: page.last };
    },
    async countTransferJobs(req) {
      const doneSince = req.doneSince ? timestampDate(req.doneSince).getTime() : undefined;
      const [counts, localBlobs, figures] = await Promise.all([
        transfer.countJobs(db),
        transfer.countLocalBlobs(db),
        queue.queueFigures(db, doneSince),
      ]);
      return {
        localBlobs: BigInt(localBlobs),
        queued: BigInt(counts.queued),
        running: BigInt(counts.running),
        done: BigInt(counts.done),
        failed: BigInt(counts.failed),
        doneSince: BigInt(figures.doneSince),
        oldestQueuedAt: msOrUndefined(figures.oldestQueuedAt ?? null),
        waitingBytes: BigInt(figures.waitingBytes),
      };
    },
    async listTransferJobs(req) {
      return listJobs(db, {
        state: req.state,
        oldestFirst: req.oldestFirst,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
    },
    async listChangedTransferJobs(req) {
      const since = req.since ? timestampDate(req.since).getTime() : 0;
      const jobs = await transfer.changedSince(db, since, pageSize(req.limit));
      return { jobs: jobs.map(transferJobRecord) };
    },
    async listDueTransferCleanups(req) {
      const due = await transfer.dueCleanups(db, now(), pageSize(req.limit));
      return {
        cleanups: due.map((c) => ({ blobSha256: c.blob_sha256, location: c.cleanup_location ?? "" })),
      };
    },
    async finishTransferCleanup(req) {
      await transfer.finishCleanup(db, hex(req.blobSha256, 64, "blob_sha256"), req.location);
      return {};
    },
  };
}
