// The WebDAV worker from its clients: the same in its own process (main.ts) and in the all-in-one process,
// which hands it the in-process host as every upstream.
import { ExpiringCache } from "../../core/cache.ts";
import { createLogger } from "../lib/log.ts";
import type { ServiceModule } from "../lib/server.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import type { Caller } from "./auth.ts";
import { type DavUpstreams, davClients } from "./clients.ts";
import { davModule } from "./service.ts";
import { TransferStore } from "./uploads-store.ts";

export function createDavWorker(clients: WorkerClients, upstreams: DavUpstreams): Worker<ServiceModule> {
  const log = createLogger("dav");
  return {
    metrics: clients.metrics,
    module: davModule({
      clients: davClients(upstreams, clients.internalSecret),
      meta: clients.meta,
      verifier: clients.verifier,
      basic: new ExpiringCache<string, Caller>(10_000),
      now: Date.now,
      transfers: new TransferStore(clients.meta),
      shareTokens: new ExpiringCache(10_000),
      onError: (err) => log.error("webdav request failed", { err: String(err) }),
    }),
    start() {},
    async stop() {},
  };
}
