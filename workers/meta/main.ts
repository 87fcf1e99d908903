// The meta worker (every filestore.meta.v1 service) as its own process (services mode).
import { createAccessTokenVerifier, remoteKeys } from "../../core/access-token.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { migrateToLatest, openDatabase } from "./db/database.ts";
import { metaModule } from "./service.ts";

const config = loadConfig();
requireInternalSecret(config);
const db = openDatabase(config.databaseUrl);
await migrateToLatest(db);
await runWorker({
  name: "meta",
  port: portFor(process.env, "meta"),
  config,
  modules: [metaModule(db, Date.now, { maxFolderDepth: config.maxFolderDepth })],
  verifier: createAccessTokenVerifier({
    keys: remoteKeys(config.serviceUrls.account),
    issuer: config.jwt.issuer,
  }),
  close: () => db.destroy(),
});
