// The transfer worker's settings (local disk → S3).
import { type Env, int } from "../lib/config.ts";

export interface TransferConfig {
  /**
   * How long after its first attempt a failing job is still retried before it becomes a dead letter
   * (TRANSFER_RETRY_FOR_SECONDS, a day): an S3 outage of hours loses nothing.
   */
  retryForSeconds: number;
  /** Optionally also a cap on attempts (TRANSFER_MAX_ATTEMPTS; 0, the default: none). */
  maxAttempts: number;
  /**
   * How often, while dead letters S3 caused exist, S3 is probed and they are re-driven once it answers
   * (TRANSFER_REDRIVE_SECONDS).
   */
  redriveSeconds: number;
  /** Backoff after the first failed attempt, doubling up to the max (TRANSFER_BACKOFF_BASE_MS, _MAX_MS). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * A job whose worker stopped renewing it (crashed, hung) runs again after this
   * (TRANSFER_VISIBILITY_SECONDS); a running copy renews it every third of it.
   */
  visibilitySeconds: number;
  /** How long a moved blob's local copy stays for reads that opened it before the move. */
  deleteGraceSeconds: number;
  /** How often the outbox is relayed to the queue and due local copies deleted (TRANSFER_POLL_MS). */
  pollMs: number;
  /** Jobs copied at the same time by one worker (TRANSFER_CONCURRENCY). */
  concurrency: number;
  /**
   * A queued or running job without a sign of life for this long is published again: its queue message
   * may be lost (TRANSFER_REPUBLISH_SECONDS). Must exceed the largest backoff.
   */
  republishSeconds: number;
  /** WatchTransfers streams one operator may hold open in one process (TRANSFER_MAX_WATCHES_PER_USER; 0: no cap). */
  maxWatchesPerUser: number;
  /**
   * How often the queue-depth gauge (filestore_transfer_queue_jobs) reads the job counts from meta, at most
   * (TRANSFER_QUEUE_GAUGE_SECONDS): scrapes never cause a query of their own.
   */
  queueGaugeSeconds: number;
}

export function loadTransferConfig(env: Env): TransferConfig {
  return {
    retryForSeconds: int(env, "TRANSFER_RETRY_FOR_SECONDS", 86_400),
    maxAttempts: int(env, "TRANSFER_MAX_ATTEMPTS", 0),
    redriveSeconds: Math.max(1, int(env, "TRANSFER_REDRIVE_SECONDS", 60)),
    backoffBaseMs: int(env, "TRANSFER_BACKOFF_BASE_MS", 2000),
    backoffMaxMs: int(env, "TRANSFER_BACKOFF_MAX_MS", 10 * 60_000),
    visibilitySeconds: Math.max(1, int(env, "TRANSFER_VISIBILITY_SECONDS", 60)),
    deleteGraceSeconds: int(env, "TRANSFER_DELETE_GRACE_SECONDS", 600),
    pollMs: Math.max(50, int(env, "TRANSFER_POLL_MS", 1000)),
    concurrency: Math.max(1, int(env, "TRANSFER_CONCURRENCY", 2)),
    republishSeconds: Math.max(1, int(env, "TRANSFER_REPUBLISH_SECONDS", 3600)),
    maxWatchesPerUser: int(env, "TRANSFER_MAX_WATCHES_PER_USER", 16),
    queueGaugeSeconds: Math.max(1, int(env, "TRANSFER_QUEUE_GAUGE_SECONDS", 15)),
  };
}
