// The file worker from its configuration and clients: FileService and FileAdminService with their
// background work (garbage collection, change checks for WatchFiles); the same in its own process
// (main.ts) and in the all-in-one process.
import { blobStoresFor, loadStorageConfig, type OpenBlobStores } from "../lib/blobstore/index.ts";
import type { ConfigOf } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import { loadFileConfig } from "./config.ts";
import { runGcPass, startGarbageCollector } from "./gc.ts";
import { fileModule } from "./service.ts";
import { ChangeFeed } from "./watch.ts";

/** The sections of the configuration the file worker reads. */
export const fileSections = { file: loadFileConfig, storage: loadStorageConfig };
export type FileWorkerConfig = ConfigOf<typeof fileSections>;

/**
 * `stores`: the composer's own (all-in-one), which it closes; without them the worker opens its configured
 * stores (garbage collection deletes from them) and stop() closes them.
 */
export async function createFileWorker(
  config: FileWorkerConfig,
  clients: Pick<WorkerClients, "meta"> & { stores?: OpenBlobStores },
): Promise<Worker> {
  const log = createLogger("file");
  const { meta } = clients;
  const stores = await blobStoresFor(config.storage, clients.stores);
  const feed = new ChangeFeed();
  const gc = {
    meta,
    storeFor: stores.storeFor,
    graceMs: config.file.gcGraceSeconds * 1000,
    trashRetentionMs: config.file.trashRetentionDays * 86_400_000,
    log,
  };
  let stops: (() => void)[] = [];
  return {
    module: fileModule({
      meta,
      feed,
      watches: new StreamLimit(config.file.maxWatchesPerUser),
      onChange: feed.publish,
      collectGarbage: () => runGcPass(gc),
    }),
    start() {
      stops = [
        startGarbageCollector(gc, config.file.gcIntervalSeconds, log),
        feed.startChecks(meta, config.file.watchCheckSeconds, log),
      ];
    },
    async stop() {
      for (const stop of stops) stop();
      stores.close();
    },
  };
}
