// The meta worker (every filestore.meta.v1 service) as its own process (services mode).

import { createAccessTokenVerifier, remoteKeys } from "../../core/access-token.ts";
import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { createMetaWorker, metaSections } from "./wire.ts";

await startWorkerTracing("meta"); // first: stores and databases are opened traced

const config = loadConfig("meta", metaSections);
requireInternalSecret(config);
const verifier = createAccessTokenVerifier({
  keys: remoteKeys(config.serviceUrls.account),
  issuer: config.issuer,
});
await runWorker("meta", config, verifier, await createMetaWorker(config));
