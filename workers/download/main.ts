// The download worker as its own process (services mode).
import { openBlobStores } from "../lib/blobstore/index.ts";
import { portFor } from "../lib/config.ts";
import { logErrors } from "../lib/log.ts";
import { runWorker, workerBasics } from "../lib/worker.ts";
import { downloadDeps } from "./deps.ts";
import { downloadModule } from "./routes.ts";

const { config, secret, log, verifier, meta } = workerBasics("download");
const blobs = (await openBlobStores(config.blobStores)).storeFor;
await runWorker({
  name: "download",
  port: portFor(process.env, "download"),
  config,
  log,
  modules: [
    downloadModule(downloadDeps(config, meta, blobs, secret), verifier, logErrors(log, "download failed")),
  ],
  verifier,
});
