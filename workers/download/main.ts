// The download worker as its own process (services mode).

import { loadConfig } from "../lib/config.ts";
import { requireStrongSecret } from "../lib/internal-secret.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createDownloadWorker, downloadSections } from "./wire.ts";

await startWorkerTracing("download"); // first: stores and databases are opened traced

const config = loadConfig("download", downloadSections);
// A link key of its own, when given, is held to the internal secret's standard.
if (config.download.linkSecret !== undefined)
  requireStrongSecret("DOWNLOAD_LINK_SECRET", config.download.linkSecret);
const clients = serviceClients("download", config);
await runWorker("download", config, clients.verifier, await createDownloadWorker(config, clients));
