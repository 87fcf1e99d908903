// The WebDAV worker as its own process (services mode): a client of the account, file, upload and
// download services over the network (each URL may list replicas, balanced like the gateway's calls).

import { AddressPool, balancedFetch, splitUrls } from "../../core/balance.ts";
import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createDavWorker } from "./wire.ts";

await startWorkerTracing("dav");

const config = loadConfig("dav", {});
const clients = serviceClients("dav", config);
const upstream = (list: string) => {
  const send = balancedFetch(new AddressPool(splitUrls(list)));
  return { url: splitUrls(list)[0] as string, fetch: (req: Request) => send(req) };
};
const urls = config.serviceUrls;
await runWorker(
  "dav",
  config,
  clients.verifier,
  createDavWorker(clients, {
    account: upstream(urls.account),
    file: upstream(urls.file),
    upload: upstream(urls.upload),
    download: upstream(urls.download),
  }),
);
