// The upload worker from its configuration and clients: its dependencies, the blob stores new content lands
// in, and the background sweeper; the same in its own process (main.ts) and in the all-in-one process.

import { blobStoresFor, loadStorageConfig, type OpenBlobStores } from "../lib/blobstore/index.ts";
import { hasFreeSpace } from "../lib/blobstore/types.ts";
import { publishers } from "../lib/bus/events.ts";
import { loadEventsConfig, openEventBus } from "../lib/bus/open.ts";
import type { ConfigOf } from "../lib/config.ts";
import { createLogger, type Logger, logErrors } from "../lib/log.ts";
import { counted, type GcMetrics, gcMetrics } from "../lib/metrics/gc.ts";
import { shareMetrics } from "../lib/metrics/shares.ts";
import { availableBytesGauge } from "../lib/metrics/storage.ts";
import { uploadMetrics } from "../lib/metrics/upload.ts";
import { every } from "../lib/periodic.ts";
import { shareTokenKeyFrom } from "../lib/share-token.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import { loadUploadConfig } from "./config.ts";
import type { DropDeps } from "./drop.ts";
import { challengeKeyFrom, type InstantDeps } from "./instant.ts";
import { uploadModule } from "./service.ts";
import { type SessionDeps, sweepSessions } from "./sessions.ts";
import { type Sha1Backfill, sha1Backfill } from "./sha1.ts";

/** The sections of the configuration the upload worker reads. */
export const uploadSections = {
  upload: loadUploadConfig,
  storage: loadStorageConfig,
  events: loadEventsConfig,
};
export type UploadWorkerConfig = ConfigOf<typeof uploadSections>;

export type UploadWorkerDeps = InstantDeps & SessionDeps & DropDeps & { sha1Backfill?: Sha1Backfill };

function uploadDeps(
  config: UploadWorkerConfig,
  meta: WorkerClients["meta"],
  stores: Pick<OpenBlobStores, "landing" | "storeFor">,
  internalSecret: string,
  log?: Logger,
): UploadWorkerDeps {
  const backfill = sha1Backfill({ meta, storeFor: stores.storeFor }, log);
  const policy = config.storage.policy;
  return {
    meta,
    blobs: stores.landing,
    storeFor: stores.storeFor,
    sha1Backfill: backfill,
    backfillSha1: (sha256) => backfill.schedule(sha256),
    enqueueTransfer: policy === "transfer",
    maxUploadBytes: config.upload.maxBytes,
    challengeKey: challengeKeyFrom(internalSecret),
    shareTokenKey: shareTokenKeyFrom(internalSecret),
    settledStore: policy === "transfer" ? stores.storeFor("s3") : stores.landing,
    trustSha1: config.upload.legacyTrustSha1,
    sessionTtlMs: config.upload.sessionTtlSeconds * 1000,
    maxOpenSessions: config.upload.maxOpenSessionsPerUser,
    maxOpenDropSessions: config.upload.maxOpenDropSessionsPerLink,
    completionLeaseMs: config.upload.completionLeaseSeconds * 1000,
    now: Date.now,
  };
}

/**
 * Sweeps expired upload sessions every `seconds`, and on its own timer at the same pace fills in the SHA-1
 * of blobs the backfill queue missed (a crash or restart after the upload); returns a stop function.
 */
function startSweeper(deps: UploadWorkerDeps, seconds: number, log: Logger, sweeps?: GcMetrics): () => void {
  const stopSessions = every(
    seconds,
    "upload session sweep",
    log,
    counted(sweeps, "upload_sessions", async () => {
      const n = await sweepSessions(deps);
      if (n > 0) log.info("swept expired upload sessions", { count: n });
    }),
  );
  const backfill = deps.sha1Backfill;
  const stopSha1 = backfill
    ? every(
        seconds,
        "SHA-1 sweep",
        log,
        counted(sweeps, "sha1_backfill", async () => {
          const n = await backfill.sweep();
          if (n > 0) log.info("filled in missing SHA-1s", { count: n });
        }),
      )
    : () => {};
  return () => {
    stopSessions();
    stopSha1();
  };
}

/**
 * UploadService and the upload data plane. `stores`: the composer's own (all-in-one), which it closes;
 * without them the worker opens its configured stores and stop() closes them.
 */
export async function createUploadWorker(
  config: UploadWorkerConfig,
  clients: WorkerClients & { stores?: OpenBlobStores },
): Promise<Worker> {
  const log = createLogger("upload");
  const stores = await blobStoresFor(config.storage, clients.stores);
  const deps = uploadDeps(config, clients.meta, stores, clients.internalSecret, log);
  const events = openEventBus(config, log, clients.bus);
  deps.events = publishers(events.bus);
  if (clients.metrics) {
    const m = clients.metrics.forService("upload");
    deps.metrics = uploadMetrics(m);
    deps.shareMetrics = shareMetrics(m);
    const landing = stores.landing;
    // Free space where uploads land (statfs), at most every 30 s: the "disk nearly full" alert.
    if (hasFreeSpace(landing))
      availableBytesGauge(
        m,
        landing.backend,
        () => landing.availableBytes(),
        30,
        (err) => log.warn("reading free space failed", { err: String(err) }),
      );
  }
  // The sweeps count as passes like the file worker's GC (filestore_gc_runs_total{task}).
  const sweeps = clients.metrics && gcMetrics(clients.metrics.forService("upload"));
  let stopSweeper = () => {};
  return {
    metrics: clients.metrics,
    module: uploadModule(deps, clients.verifier, logErrors(log, "upload failed")),
    start() {
      stopSweeper = startSweeper(deps, config.upload.sweepSeconds, log, sweeps);
    },
    async stop() {
      stopSweeper();
      stores.close();
      await events.close();
    },
  };
}
