// The download worker as its own process (services mode).
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { createAccessTokenVerifier, remoteKeys } from "../lib/access-token.ts";
import { openBlobStores } from "../lib/blobstore/index.ts";
import { clientFor, httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger, logErrors } from "../lib/log.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { downloadDeps } from "./deps.ts";
import { downloadModule } from "./routes.ts";

const config = loadConfig();
const log = createLogger("download");
const verifier = createAccessTokenVerifier({
  keys: remoteKeys(config.serviceUrls.account),
  issuer: config.jwt.issuer,
});
const meta = clientFor(MetaService, httpTransport(config.serviceUrls.meta, requireInternalSecret(config)));
const blobs = (await openBlobStores(config.blobStores)).storeFor;
await runWorker({
  name: "download",
  port: portFor(process.env, "download"),
  config,
  log,
  modules: [
    downloadModule(
      downloadDeps(config, meta, blobs, requireInternalSecret(config)),
      verifier,
      logErrors(log, "download failed"),
    ),
  ],
  verifier,
});
