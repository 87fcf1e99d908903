// The download worker as its own process (services mode).
import { loadConfig } from "../lib/config.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createDownloadWorker, downloadSections } from "./wire.ts";

const config = loadConfig("download", downloadSections);
const clients = serviceClients("download", config);
await runWorker("download", config, clients.verifier, await createDownloadWorker(config, clients));
