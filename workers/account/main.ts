// AccountService as its own process (services mode): it verifies tokens with its own signing key.

import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { loadSigningKey } from "./keys.ts";
import { accountSections, createAccountWorker } from "./wire.ts";

startWorkerTracing("account"); // first: stores and databases are opened traced

const config = loadConfig("account", accountSections);
const key = await loadSigningKey(config.account.jwt);
const clients = serviceClients("account", config, key.localKeys);
await runWorker("account", config, clients.verifier, await createAccountWorker(config, { ...clients, key }));
