// The transfer worker as its own process (services mode): consumes transfer jobs from the Redis stream
// (local disk → S3) and serves TransferService. Under the transfer storage policy it needs the upload
// workers' local blob directory (BLOB_DIR, a shared volume) and the S3 settings.

import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createTransferWorker, redisTransferQueue, transferSections } from "./wire.ts";

await startWorkerTracing("transfer"); // first: stores and databases are opened traced

const config = loadConfig("transfer", transferSections);
const clients = serviceClients("transfer", config);
const queue = await redisTransferQueue(config);
await runWorker(
  "transfer",
  config,
  clients.verifier,
  await createTransferWorker(config, { ...clients, queue }),
);
