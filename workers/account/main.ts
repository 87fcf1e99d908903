// AccountService as its own process (services mode): it verifies tokens with its own signing key.

import { httpTransport } from "../lib/clients.ts";
import { loadConfig } from "../lib/config.ts";
import { startWorkerTracing } from "../lib/tracing/index.ts";
import { runWorker, serviceClients } from "../lib/worker.ts";
import { loadSigningKey } from "./keys.ts";
import { accountSections, createAccountWorker, fileIntegrityCheck } from "./wire.ts";

await startWorkerTracing("account"); // first: stores and databases are opened traced

const config = loadConfig("account", accountSections);
const key = await loadSigningKey(config.account.jwt);
const clients = serviceClients("account", config, key.localKeys);
// A consistency check walks every blob: hours on a large instance, so a day before the call times out.
const fileAdmin = httpTransport(config.serviceUrls.file, clients.internalSecret, { timeoutMs: 86_400_000 });
const checkIntegrity = fileIntegrityCheck(fileAdmin);
await runWorker(
  "account",
  config,
  clients.verifier,
  await createAccountWorker(config, { ...clients, key, checkIntegrity }),
);
