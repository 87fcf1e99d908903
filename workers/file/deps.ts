// The file service with its background work (garbage collection, change checks for WatchFiles), shared by
// the all-in-one process and the standalone file worker.
import type { StoreFor } from "../lib/blobstore/types.ts";
import type { Config } from "../lib/config.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { ServiceModule } from "../lib/server.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { runGcPass, startGarbageCollector } from "./gc.ts";
import { fileModule } from "./routes.ts";
import { ChangeFeed } from "./watch.ts";

export function startFileService(
  config: Config,
  meta: MetaClient,
  storeFor: StoreFor,
  log: Logger,
): { module: ServiceModule; stop(): void } {
  const feed = new ChangeFeed();
  const gc = { meta, storeFor, graceMs: config.gcGraceSeconds * 1000, log };
  const stops = [
    startGarbageCollector(gc, config.gcIntervalSeconds, log),
    feed.startChecks(meta, config.watchCheckSeconds, log),
  ];
  return {
    module: fileModule({
      meta,
      feed,
      watches: new StreamLimit(config.fileMaxWatchesPerUser),
      onChange: feed.publish,
      collectGarbage: () => runGcPass(gc),
    }),
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}
