// The transfer worker from its configuration and clients: the consumers (when this process has both a
// local store and S3) and TransferService; the same in its own process (main.ts) and in the all-in-one
// process. Its queue is the composer's choice: Redis in services mode, SQLite beside the database in
// the all-in-one process (both built here).

import { hostname } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { blobStoresFor, loadStorageConfig, type OpenBlobStores } from "../lib/blobstore/index.ts";
import { canRelocate } from "../lib/blobstore/types.ts";
import { publishers } from "../lib/bus/events.ts";
import { loadEventsConfig, openEventBus } from "../lib/bus/open.ts";
import type { ConfigOf } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { type TransferJobCounts, transferMetrics, transferQueueGauge } from "../lib/metrics/transfer.ts";
import { openRedisQueue } from "../lib/queue/redis.ts";
import { openSqliteQueue } from "../lib/queue/sqlite.ts";
import type { Queue, QueueOptions } from "../lib/queue/types.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import { loadTransferConfig } from "./config.ts";
import { TransferCounters } from "./counters.ts";
import { transferModule } from "./service.ts";
import { startTransferWorker, type TransferDeps, type TransferWorker } from "./transfer.ts";

/** The sections of the configuration the transfer worker reads. */
export const transferSections = {
  transfer: loadTransferConfig,
  storage: loadStorageConfig,
  events: loadEventsConfig,
};
export type TransferWorkerConfig = ConfigOf<typeof transferSections>;

function queueOptions(config: TransferWorkerConfig): QueueOptions {
  const t = config.transfer;
  return {
    visibilityMs: t.visibilitySeconds * 1000,
    retryForMs: t.retryForSeconds * 1000,
    maxAttempts: t.maxAttempts,
    backoffBaseMs: t.backoffBaseMs,
    backoffMaxMs: t.backoffMaxMs,
  };
}

/** The queue's name (its Redis key, or its rows in the SQLite queue). */
const TRANSFER_QUEUE = "transfer";

/** Services mode: the queue in Redis (REDIS_URL is required); closing it closes its connection. */
export async function redisTransferQueue(config: TransferWorkerConfig): Promise<Queue> {
  if (!config.redisUrl)
    throw new Error("REDIS_URL must be set: the transfer queue lives in Redis in services mode");
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const queue = await openRedisQueue(redis, config.redisPrefix, TRANSFER_QUEUE, queueOptions(config));
  return {
    ...queue,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** The all-in-one process: the durable SQLite queue beside the database (no Redis in this mode). */
export function sqliteTransferQueue(config: TransferWorkerConfig): Queue {
  return openSqliteQueue(join(config.dataDir, "queue.db"), TRANSFER_QUEUE, queueOptions(config));
}

/** The job counts the queue gauge shows. */
const jobCounts = (r: { queued: bigint; running: bigint; failed: bigint }): TransferJobCounts => ({
  queued: Number(r.queued),
  running: Number(r.running),
  failed: Number(r.failed),
});

/**
 * TransferService and, when this process has both a local store and S3, the consumers that move content.
 * The worker owns `queue` (stop() closes it); `stores`: the composer's own (all-in-one), which it closes;
 * without them the worker opens its configured stores and stop() closes them.
 */
export async function createTransferWorker(
  config: TransferWorkerConfig,
  clients: Pick<WorkerClients, "meta" | "metrics" | "bus"> & { queue: Queue; stores?: OpenBlobStores },
): Promise<Worker> {
  const log = createLogger("transfer");
  const { meta, queue } = clients;
  const m = clients.metrics?.forService("transfer");
  const metrics = m && transferMetrics(m);
  const counters = new TransferCounters(metrics?.counted);
  // Queue depth from the jobs table, at most once per poll period (a GROUP BY on transfer_jobs).
  if (m)
    transferQueueGauge(
      m,
      () => meta.countTransferJobs({}).then(jobCounts),
      config.transfer.queueGaugeSeconds,
      (err) => log.warn("reading transfer job counts failed", { err: String(err) }),
    );
  const stores = await blobStoresFor(config.storage, clients.stores);
  // Job state changes go on the event bus (WatchTransfers reads them there, in whichever process).
  const bus = openEventBus(config, log, clients.bus);
  const events = publishers(bus.bus);
  const local = stores.stores.find((s) => s.backend === "local");
  const target = stores.stores.find((s) => s.backend === "s3");
  const deps: TransferDeps | undefined =
    local && target && canRelocate(target)
      ? {
          meta,
          queue,
          local,
          target,
          deleteGraceMs: config.transfer.deleteGraceSeconds * 1000,
          republishMs: config.transfer.republishSeconds * 1000,
          now: Date.now,
          log,
          counters,
          metrics,
          events,
        }
      : undefined;
  if (!deps)
    log.info("transfer jobs are not run here: this process needs both a local store and S3 (S3_*)", {
      policy: config.storage.policy,
    });
  let mover: TransferWorker | undefined;
  return {
    metrics: clients.metrics,
    module: transferModule({
      meta,
      queue,
      counters,
      now: Date.now,
      admins: config.adminUsers,
      canMove: deps !== undefined,
      kick: async () => mover?.tick(),
      pollMs: config.transfer.pollMs,
      bus: bus.bus,
      events,
      watches: new StreamLimit(config.transfer.maxWatchesPerUser),
    }),
    start() {
      mover =
        deps &&
        startTransferWorker(deps, {
          consumer: `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
          concurrency: config.transfer.concurrency,
          pollMs: config.transfer.pollMs,
          graceMs: config.shutdownGraceMs,
          redriveMs: config.transfer.redriveSeconds * 1000,
        });
    },
    async stop() {
      await mover?.stop();
      await queue.close();
      await bus.close();
      stores.close();
    },
  };
}
