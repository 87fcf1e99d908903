// The upload worker's dependencies from configuration, and its background sweeper — shared by the
// all-in-one process and the standalone upload worker.
import type { Client } from "@connectrpc/connect";
import type { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { BlobStore } from "../lib/blobstore/types.ts";
import type { Config } from "../lib/config.ts";
import type { Logger } from "../lib/log.ts";
import { every } from "../lib/periodic.ts";
import { challengeKeyFrom, type InstantDeps } from "./instant.ts";
import { type SessionDeps, sweepSessions } from "./sessions.ts";

export type UploadWorkerDeps = InstantDeps & SessionDeps;

export function uploadDeps(
  config: Config,
  meta: Client<typeof MetaService>,
  blobs: BlobStore,
  internalSecret: string,
): UploadWorkerDeps {
  return {
    meta,
    blobs,
    maxUploadBytes: config.maxUploadBytes,
    challengeKey: challengeKeyFrom(internalSecret),
    trustSha1: config.legacyTrustSha1,
    sessionTtlMs: config.uploadSessionTtlSeconds * 1000,
    now: Date.now,
  };
}

/** Sweeps expired upload sessions every `seconds`; returns a stop function. */
export function startSweeper(deps: UploadWorkerDeps, seconds: number, log: Logger): () => void {
  return every(seconds, "upload session sweep", log, async () => {
    const n = await sweepSessions(deps);
    if (n > 0) log.info("swept expired upload sessions", { count: n });
  });
}
