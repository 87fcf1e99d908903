// The file worker as its own process (services mode): FileService, FileAdminService, garbage collection.
import { openBlobStores } from "../lib/blobstore/index.ts";
import { portFor } from "../lib/config.ts";
import { runWorker, workerBasics } from "../lib/worker.ts";
import { startFileService } from "./deps.ts";

const { config, log, verifier, meta } = workerBasics("file");
const service = startFileService(config, meta, (await openBlobStores(config.blobStores)).storeFor, log);
await runWorker({
  name: "file",
  port: portFor(process.env, "file"),
  config,
  log,
  modules: [service.module],
  verifier,
  close: async () => service.stop(),
});
