// The upload worker as its own process (services mode).
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { createAccessTokenVerifier, remoteKeys } from "../lib/access-token.ts";
import { openBlobStores } from "../lib/blobstore/index.ts";
import { clientFor, httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { startSweeper, uploadDeps } from "./deps.ts";
import { uploadModule } from "./routes.ts";

const config = loadConfig();
const secret = requireInternalSecret(config);
const log = createLogger("upload");
const verifier = createAccessTokenVerifier({
  keys: remoteKeys(config.serviceUrls.account),
  issuer: config.jwt.issuer,
});
const deps = uploadDeps(
  config,
  clientFor(MetaService, httpTransport(config.serviceUrls.meta, secret)),
  await openBlobStores(config.blobStores),
  secret,
  log,
);
const stopSweeper = startSweeper(deps, config.uploadSweepSeconds, log);
await runWorker({
  name: "upload",
  port: portFor(process.env, "upload"),
  config,
  log,
  modules: [
    uploadModule(deps, verifier, (err) =>
      log.error("upload failed", { err: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    ),
  ],
  verifier,
  close: async () => stopSweeper(),
});
