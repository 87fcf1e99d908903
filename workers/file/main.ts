// The file worker as its own process (services mode): FileService, FileAdminService, garbage collection.

import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createFileWorker, fileSections } from "./wire.ts";

await startWorkerTracing("file"); // first: stores and databases are opened traced

const config = loadConfig("file", fileSections);
const clients = serviceClients("file", config);
await runWorker("file", config, clients.verifier, await createFileWorker(config, clients));
