// The upload worker's dependencies from configuration, and its background sweeper — shared by the
// all-in-one process and the standalone upload worker.
import type { BlobStore, StoreFor } from "../lib/blobstore/types.ts";
import type { Config } from "../lib/config.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { every } from "../lib/periodic.ts";
import { challengeKeyFrom, type InstantDeps } from "./instant.ts";
import { type SessionDeps, sweepSessions } from "./sessions.ts";
import { type Sha1Backfill, sha1Backfill } from "./sha1.ts";

export type UploadWorkerDeps = InstantDeps & SessionDeps & { sha1Backfill?: Sha1Backfill };

export function uploadDeps(
  config: Config,
  meta: MetaClient,
  stores: { landing: BlobStore; storeFor: StoreFor },
  internalSecret: string,
  log?: Logger,
): UploadWorkerDeps {
  const backfill = sha1Backfill({ meta, storeFor: stores.storeFor }, log);
  return {
    meta,
    blobs: stores.landing,
    storeFor: stores.storeFor,
    sha1Backfill: backfill,
    backfillSha1: (sha256) => backfill.schedule(sha256),
    enqueueTransfer: config.storagePolicy === "transfer",
    maxUploadBytes: config.maxUploadBytes,
    challengeKey: challengeKeyFrom(internalSecret),
    settledStore: config.storagePolicy === "transfer" ? stores.storeFor("s3") : stores.landing,
    trustSha1: config.legacyTrustSha1,
    sessionTtlMs: config.uploadSessionTtlSeconds * 1000,
    maxOpenSessions: config.uploadMaxOpenSessionsPerUser,
    completionLeaseMs: config.uploadCompletionLeaseSeconds * 1000,
    now: Date.now,
  };
}

/**
 * Sweeps expired upload sessions every `seconds`, and on its own timer at the same pace fills in the SHA-1
 * of blobs the backfill queue missed (a crash or restart after the upload); returns a stop function.
 */
export function startSweeper(deps: UploadWorkerDeps, seconds: number, log: Logger): () => void {
  const stopSessions = every(seconds, "upload session sweep", log, async () => {
    const n = await sweepSessions(deps);
    if (n > 0) log.info("swept expired upload sessions", { count: n });
  });
  const backfill = deps.sha1Backfill;
  const stopSha1 = backfill
    ? every(seconds, "SHA-1 sweep", log, async () => {
        const n = await backfill.sweep();
        if (n > 0) log.info("filled in missing SHA-1s", { count: n });
      })
    : () => {};
  return () => {
    stopSessions();
    stopSha1();
  };
}
