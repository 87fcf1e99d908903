// The download worker from its configuration and clients: its dependencies and the blob stores it reads;
// the same in its own process (main.ts) and in the all-in-one process.

import { ExpiringCache } from "../../core/cache.ts";
import { DownloadLinkService } from "../../proto/gen/filestore/meta/v1/links_pb.ts";
import { blobStoresFor, loadStorageConfig, type OpenBlobStores } from "../lib/blobstore/index.ts";
import type { StoreFor } from "../lib/blobstore/types.ts";
import { publishers } from "../lib/bus/events.ts";
import { loadEventsConfig, openEventBus } from "../lib/bus/open.ts";
import type { ConfigOf } from "../lib/config.ts";
import { createLogger, logErrors } from "../lib/log.ts";
import { downloadMetrics } from "../lib/metrics/download.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import { loadDownloadConfig } from "./config.ts";
import type { DownloadDeps, Target } from "./download.ts";
import { dropOnFileEvents } from "./invalidation.ts";
import { linkKeyFrom, VerifiedLinks } from "./links.ts";
import { type DownloadModule, downloadModule } from "./service.ts";
import { followShareEvents, LiveShares } from "./share-liveness.ts";
import type { ThumbnailRow } from "./thumbnails.ts";

/**
 * The meta calls of the download data plane's hot path (a shared file's every range request asks for its
 * target): an all-in-one process calls them without encoding (workers/lib/direct-transport.ts).
 */
export const downloadHotMetaMethods = [DownloadLinkService.method.getDownloadTarget].map(
  (m) => `/${m.parent.typeName}/${m.name}`,
);

/** The sections of the configuration the download worker reads. */
export const downloadSections = {
  download: loadDownloadConfig,
  storage: loadStorageConfig,
  events: loadEventsConfig,
};
export type DownloadWorkerConfig = ConfigOf<typeof downloadSections>;

function downloadDeps(
  config: DownloadWorkerConfig,
  meta: WorkerClients["meta"],
  storeFor: StoreFor,
  internalSecret: string,
  bunServe: boolean,
): DownloadDeps {
  const d = config.download;
  if (d.urlTtlSeconds < 1 || d.urlTtlSeconds > d.urlMaxTtlSeconds)
    throw new Error("DOWNLOAD_URL_TTL_SECONDS must be between 1 and DOWNLOAD_URL_MAX_TTL_SECONDS");
  if (d.thumbnailUrlTtlSeconds < 1) throw new Error("THUMBNAIL_URL_TTL_SECONDS must be at least 1");
  const linkKey = linkKeyFrom(d.linkSecret ?? internalSecret);
  return {
    meta,
    storeFor,
    linkKey,
    linkTtlSeconds: d.urlTtlSeconds,
    linkMaxTtlSeconds: d.urlMaxTtlSeconds,
    publicUrl: d.publicUrl,
    s3Redirect: d.s3Redirect,
    bunServeRanges: bunServe,
    accelPrefix: d.accelPrefix,
    lookups: new ExpiringCache<string, Target>(10_000),
    lookupCacheMs: d.lookupCacheMs,
    verifiedLinks: new VerifiedLinks(),
    now: Date.now,
    zipMaxEntries: d.zipMaxEntries,
    thumbnails: {
      meta,
      storeFor,
      linkKey,
      urlTtlSeconds: d.thumbnailUrlTtlSeconds,
      publicUrl: d.publicUrl,
      videos: d.videoThumbnails,
      rows: new ExpiringCache<string, ThumbnailRow>(10_000),
      now: Date.now,
    },
  };
}

/**
 * DownloadService and the download data plane. `stores`: the composer's own (all-in-one), which it
 * closes; without them the worker opens its configured stores and stop() closes them. `bunServe`: the
 * answers are written by Bun.serve (the all-in-one process), see DownloadDeps.bunServeRanges.
 */
export async function createDownloadWorker(
  config: DownloadWorkerConfig,
  clients: WorkerClients & { stores?: OpenBlobStores },
  opts: { bunServe?: boolean } = {},
): Promise<Worker<DownloadModule>> {
  const log = createLogger("download");
  const stores = await blobStoresFor(config.storage, clients.stores);
  const deps = downloadDeps(config, clients.meta, stores.storeFor, clients.internalSecret, !!opts.bunServe);
  if (clients.metrics) deps.metrics = downloadMetrics(clients.metrics.forService("download"));
  const events = openEventBus(config, log, clients.bus);
  deps.events = publishers(events.bus);
  const following = new AbortController();
  return {
    metrics: clients.metrics,
    module: downloadModule(deps, clients.verifier, logErrors(log, "download failed")),
    start() {
      if (deps.lookupCacheMs <= 0) return;
      void dropOnFileEvents(events.bus, deps.lookups, following.signal, log);
      // Share answers are reused only on the composer's in-process bus (all-in-one), whose events reach this
      // cache before the change's answer leaves. Through Redis an event reaches another replica one round
      // trip after that answer, and a range asked at once could still be served: a revoked link must stop
      // at once on every replica (issue 18), so there every range asks meta.
      if (!clients.bus) return;
      const shares = new LiveShares<Target>(deps.lookupCacheMs, deps.now);
      void followShareEvents(events.bus, shares, following.signal, log).then(() => {
        if (!following.signal.aborted) deps.liveShares = shares;
      });
    },
    async stop() {
      following.abort();
      await events.close();
      stores.close();
    },
  };
}
