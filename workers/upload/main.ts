// The upload worker as its own process (services mode).
import { openBlobStores } from "../lib/blobstore/index.ts";
import { portFor } from "../lib/config.ts";
import { logErrors } from "../lib/log.ts";
import { runWorker, workerBasics } from "../lib/worker.ts";
import { startSweeper, uploadDeps } from "./deps.ts";
import { uploadModule } from "./routes.ts";

const { config, secret, log, verifier, meta } = workerBasics("upload");
const deps = uploadDeps(config, meta, await openBlobStores(config.blobStores), secret, log);
const stopSweeper = startSweeper(deps, config.uploadSweepSeconds, log);
await runWorker({
  name: "upload",
  port: portFor(process.env, "upload"),
  config,
  log,
  modules: [uploadModule(deps, verifier, logErrors(log, "upload failed"))],
  verifier,
  close: async () => stopSweeper(),
});
