// The transfer worker from configuration — shared by the all-in-one process and the standalone worker:
// the consumers (when this process has both a local store and S3) and TransferService.
import { hostname } from "node:os";
import { type BlobStore, canRelocate } from "../lib/blobstore/types.ts";
import type { Config } from "../lib/config.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { Queue, QueueOptions } from "../lib/queue/types.ts";
import type { ServiceModule } from "../lib/server.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { transferModule } from "./routes.ts";
import { startTransferWorker, type TransferDeps, type TransferWorker } from "./transfer.ts";

export function transferQueueOptions(config: Config): QueueOptions {
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
export const TRANSFER_QUEUE = "transfer";

export function startTransfer(
  config: Config,
  meta: MetaClient,
  stores: BlobStore[],
  queue: Queue,
  log: Logger,
): { module: ServiceModule; worker?: TransferWorker; stop(): Promise<void> } {
  const local = stores.find((s) => s.backend === "local");
  const target = stores.find((s) => s.backend === "s3");
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
        }
      : undefined;
  const worker =
    deps &&
    startTransferWorker(deps, {
      consumer: `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
      concurrency: config.transfer.concurrency,
      pollMs: config.transfer.pollMs,
      graceMs: config.shutdownGraceMs,
      redriveMs: config.transfer.redriveSeconds * 1000,
    });
  if (!worker)
    log.info("transfer jobs are not run here: this process needs both a local store and S3 (S3_*)", {
      policy: config.storagePolicy,
    });
  const module = transferModule({
    meta,
    queue,
    now: Date.now,
    admins: config.adminUsers,
    canMove: worker !== undefined,
    kick: async () => worker?.tick(),
    pollMs: config.transfer.pollMs,
    watches: new StreamLimit(config.transfer.maxWatchesPerUser),
  });
  return {
    module,
    worker,
    async stop() {
      await worker?.stop();
      await queue.close();
    },
  };
}
