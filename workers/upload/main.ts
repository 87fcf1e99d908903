// The upload worker as its own process (services mode).
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { createAccessTokenVerifier, remoteKeys } from "../lib/access-token.ts";
import { createBlobStore } from "../lib/blobstore/index.ts";
import { clientFor, httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { challengeKeyFrom } from "./instant.ts";
import { uploadModule } from "./routes.ts";

const config = loadConfig();
const secret = requireInternalSecret(config);
const log = createLogger("upload");
const verifier = createAccessTokenVerifier({
  keys: remoteKeys(config.serviceUrls.account),
  issuer: config.jwt.issuer,
});
await runWorker({
  name: "upload",
  port: portFor(process.env, "upload"),
  config,
  log,
  modules: [
    uploadModule(
      {
        meta: clientFor(MetaService, httpTransport(config.serviceUrls.meta, secret)),
        blobs: await createBlobStore(config.blobs),
        maxUploadBytes: config.maxUploadBytes,
        challengeKey: challengeKeyFrom(secret),
        now: Date.now,
        trustSha1: config.legacyTrustSha1,
      },
      verifier,
      (err) =>
        log.error("upload failed", { err: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    ),
  ],
  verifier,
});
