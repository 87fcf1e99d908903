// The download worker's dependencies from configuration — shared by the all-in-one process and the
// standalone download worker.
import { ExpiringCache } from "../../core/cache.ts";
import type { StoreFor } from "../lib/blobstore/types.ts";
import type { Config } from "../lib/config.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { DownloadDeps, Target } from "./download.ts";
import { linkKeyFrom } from "./links.ts";

export function downloadDeps(
  config: Config,
  meta: MetaClient,
  storeFor: StoreFor,
  internalSecret: string,
  /** The answers are written by Bun.serve (the all-in-one process): see DownloadDeps.bunServeRanges. */
  bunServe = false,
): DownloadDeps {
  const d = config.download;
  if (d.urlTtlSeconds < 1 || d.urlTtlSeconds > d.urlMaxTtlSeconds)
    throw new Error("DOWNLOAD_URL_TTL_SECONDS must be between 1 and DOWNLOAD_URL_MAX_TTL_SECONDS");
  return {
    meta,
    storeFor,
    linkKey: linkKeyFrom(d.linkSecret ?? internalSecret),
    linkTtlSeconds: d.urlTtlSeconds,
    linkMaxTtlSeconds: d.urlMaxTtlSeconds,
    publicUrl: d.publicUrl,
    s3Redirect: d.s3Redirect,
    bunServeRanges: bunServe,
    lookups: new ExpiringCache<string, Target>(10_000),
    lookupCacheMs: d.lookupCacheMs,
    now: Date.now,
  };
}
