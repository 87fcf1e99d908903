// The file worker from its configuration and clients: FileService and FileAdminService with their
// background work (garbage collection); its changes go on the event bus (WatchFiles reads them there); the same in its own process
// (main.ts) and in the all-in-one process. Thumbnails are made here too: the file worker owns background
// passes over content (GC deletes thumbnails with their content), and the CPU they cost stays off the
// upload worker's request path; a sweep finds new uploads within seconds and, after a restart, anything
// older that has none, with the same code.

import { ContentService } from "../../proto/gen/filestore/meta/v1/content_pb.ts";
import { TreeService } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { loadDownloadConfig } from "../download/config.ts";
import { linkKeyFrom } from "../download/links.ts";
import { blobStoresFor, loadStorageConfig, type OpenBlobStores } from "../lib/blobstore/index.ts";
import { publishers } from "../lib/bus/events.ts";
import { loadEventsConfig, openEventBus } from "../lib/bus/open.ts";
import type { ConfigOf } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { fsckMetrics } from "../lib/metrics/fsck.ts";
import { counted, gcMetrics } from "../lib/metrics/gc.ts";
import { shareMetrics } from "../lib/metrics/shares.ts";
import { type StorageTotalsProvider, storageMetrics } from "../lib/metrics/storage.ts";
import { every } from "../lib/periodic.ts";
import type { RateLimiter } from "../lib/ratelimit.ts";
import { shareTokenKeyFrom } from "../lib/share-token.ts";
import { openSharedLimiter } from "../lib/shared-limiter.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import { loadFileConfig } from "./config.ts";
import { startPeriodicFsck } from "./fsck-periodic.ts";
import { runGcPass, startGarbageCollector } from "./gc.ts";
import { fileModule } from "./service.ts";
import { loadShareConfig } from "./shares/config.ts";
import { thumbnailSweep } from "./thumbnail-sweep.ts";
import { recountUsage } from "./usage.ts";
import { publishChanges, publishUnreferenced } from "./watch.ts";

/**
 * The meta calls of the file worker's hot reads (every folder the web app opens, every file it shows): an
 * all-in-one process calls them without encoding (workers/lib/direct-transport.ts).
 */
export const fileHotMetaMethods = [TreeService.method.listFiles, ContentService.method.getFile].map(
  (m) => `/${m.parent.typeName}/${m.name}`,
);

/** The sections of the configuration the file worker reads. */
export const fileSections = {
  file: loadFileConfig,
  storage: loadStorageConfig,
  shares: loadShareConfig,
  // Share links mint download URLs with the download worker's link key and base URL, and refuse a folder
  // ZIP past its ZIP_MAX_ENTRIES.
  download: loadDownloadConfig,
  events: loadEventsConfig,
};
export type FileWorkerConfig = ConfigOf<typeof fileSections>;

/**
 * `stores`: the composer's own (all-in-one), which it closes; without them the worker opens its configured
 * stores (garbage collection deletes from them) and stop() closes them.
 */
export async function createFileWorker(
  config: FileWorkerConfig,
  clients: Pick<WorkerClients, "meta" | "metrics" | "internalSecret" | "bus"> & {
    /** The composer's limiter for share-password attempts (all-in-one: memory); else Redis when configured. */
    limiter?: RateLimiter;
    stores?: OpenBlobStores;
    /**
     * Storage totals for the storage gauges, read at most every STORAGE_GAUGE_SECONDS; by default
     * meta's GetInstanceStats (counters and indexed aggregates, cached by meta too).
     */
    storageTotals?: StorageTotalsProvider;
  },
): Promise<Worker> {
  const log = createLogger("file");
  const { meta } = clients;
  const stores = await blobStoresFor(config.storage, clients.stores);
  const events = openEventBus(config, log, clients.bus);
  const onChange = publishChanges(events.bus);
  const onUnreferenced = publishUnreferenced(events.bus);
  const maxDays = config.file.versionsMaxDays;
  const gc = {
    meta,
    storeFor: stores.storeFor,
    graceMs: config.file.gcGraceSeconds * 1000,
    versionsMaxAgeMs: maxDays > 0 ? maxDays * 86_400_000 : undefined,
    trashRetentionMs: config.file.trashRetentionDays * 86_400_000,
    onChange,
    onUnreferenced,
    log,
    metrics: clients.metrics && gcMetrics(clients.metrics.forService("file")),
  };
  const t = config.file.thumbnails;
  const thumbnails = thumbnailSweep(
    { meta, storeFor: stores.storeFor, landing: stores.landing, ...t, log },
    { concurrency: t.concurrency },
  );
  if (clients.metrics)
    storageMetrics(clients.metrics.forService("file"), clients.storageTotals ?? instanceTotals(meta), {
      maxAgeSeconds: config.file.storageGaugeSeconds,
      onError: (err) => log.warn("reading storage totals failed", { err: String(err) }),
    });
  const limits = await openSharedLimiter(config, log, clients.limiter);
  const fsck = {
    meta,
    storeFor: stores.storeFor,
    backends: [...new Set(stores.stores.map((s) => s.backend))],
    graceMs: config.file.fsckGraceSeconds * 1000,
    scrubBytesPerHour: config.file.scrubBytesPerHour,
    log,
    metrics: clients.metrics && fsckMetrics(clients.metrics.forService("file")),
  };
  let stops: (() => void)[] = [];
  return {
    metrics: clients.metrics,
    module: fileModule({
      meta,
      bus: events.bus,
      watches: new StreamLimit(config.file.maxWatchesPerUser),
      onChange,
      onUnreferenced,
      collectGarbage: () => runGcPass(gc),
      fsck,
      shares: {
        meta,
        config: config.shares,
        tokenKey: shareTokenKeyFrom(clients.internalSecret),
        linkKey: linkKeyFrom(config.download.linkSecret ?? clients.internalSecret),
        publicUrl: config.download.publicUrl,
        zipMaxEntries: config.download.zipMaxEntries,
        limiter: limits.limiter,
        now: Date.now,
        metrics: clients.metrics && shareMetrics(clients.metrics.forService("file")),
        events: publishers(events.bus),
      },
    }),
    start() {
      stops = [
        startGarbageCollector(gc, config.file.gcIntervalSeconds, log),
        thumbnails.start(t.sweepSeconds, log),
        startPeriodicFsck(fsck, config.file.fsckIntervalHours, log),
        every(
          config.file.quotaRecountSeconds,
          "usage recount",
          log,
          counted(gc.metrics, "usage_recount", async () => {
            await recountUsage({ meta, log });
          }),
        ),
      ];
    },
    async stop() {
      for (const stop of stops) stop();
      stores.close();
      await limits.close();
      await events.close();
    },
  };
}

/** The storage gauges' figures from meta's instance statistics. */
const instanceTotals =
  (meta: MetaClient): StorageTotalsProvider =>
  async () => {
    const s = await meta.getInstanceStats({});
    return {
      backends: s.backends.map((b) => ({
        backend: b.backend,
        blobs: Number(b.blobs),
        storedBytes: Number(b.storedBytes),
      })),
      logicalBytes: Number(s.logicalBytes),
    };
  };
