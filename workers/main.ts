// `npm start`: the all-in-one file store (SQLite + local disk, no other server needed).

import { allInOneSections, startAllInOne } from "./allinone.ts";
import { loadConfig } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { onShutdown } from "./lib/server.ts";
import { startWorkerTracing, stopWorkerTracing } from "./lib/tracing/index.ts";

await startWorkerTracing("filestore"); // one process, one tracer provider: service.name "filestore"

const config = loadConfig("gateway", allInOneSections);
const log = createLogger("filestore");
const app = await startAllInOne(config);
process.stdout.write(
  [
    "filestore is running (all-in-one)",
    `  web + HTTP API        ${app.httpUrl}`,
    `  gRPC/Connect/gRPC-Web ${app.grpcUrl}   (try: npx buf curl --protocol grpc --http2-prior-knowledge --list-methods ${app.grpcUrl})`,
    `  data                  ${config.dataDir}`,
    "",
  ].join("\n"),
);
onShutdown(log, async () => {
  await app.stop();
  await stopWorkerTracing();
});
