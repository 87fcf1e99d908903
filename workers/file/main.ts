// The file worker as its own process (services mode): FileService, FileAdminService, garbage collection.
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { createAccessTokenVerifier, remoteKeys } from "../lib/access-token.ts";
import { createBlobStore, storeForAll } from "../lib/blobstore/index.ts";
import { clientFor, httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { startFileService } from "./deps.ts";

const config = loadConfig();
const secret = requireInternalSecret(config);
const log = createLogger("file");
const verifier = createAccessTokenVerifier({
  keys: remoteKeys(config.serviceUrls.account),
  issuer: config.jwt.issuer,
});
const service = startFileService(
  config,
  clientFor(MetaService, httpTransport(config.serviceUrls.meta, secret)),
  storeForAll(await createBlobStore(config.blobs)),
  log,
);
await runWorker({
  name: "file",
  port: portFor(process.env, "file"),
  config,
  log,
  modules: [service.module],
  verifier,
  close: async () => service.stop(),
});
