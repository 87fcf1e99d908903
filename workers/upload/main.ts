// The upload worker as its own process (services mode).

import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createUploadWorker, uploadSections } from "./wire.ts";

await startWorkerTracing("upload"); // first: stores and databases are opened traced

const config = loadConfig("upload", uploadSections);
const clients = serviceClients("upload", config);
await runWorker("upload", config, clients.verifier, await createUploadWorker(config, clients));
