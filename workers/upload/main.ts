// The upload worker as its own process (services mode).
import { loadConfig } from "../lib/config.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { createUploadWorker, uploadSections } from "./wire.ts";

const config = loadConfig("upload", uploadSections);
const clients = serviceClients("upload", config);
await runWorker("upload", config, clients.verifier, await createUploadWorker(config, clients));
