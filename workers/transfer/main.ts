// The transfer worker as its own process (services mode): consumes transfer jobs from the Redis stream
// (local disk → S3) and serves TransferService. Under the transfer storage policy it needs the upload
// workers' local blob directory (BLOB_DIR, a shared volume) and the S3 settings.
import Redis from "ioredis";
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { createAccessTokenVerifier, remoteKeys } from "../lib/access-token.ts";
import { openBlobStores } from "../lib/blobstore/index.ts";
import { clientFor, httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { openRedisQueue } from "../lib/queue/redis.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { startTransfer, TRANSFER_QUEUE, transferQueueOptions } from "./deps.ts";

const config = loadConfig();
const secret = requireInternalSecret(config);
const log = createLogger("transfer");
if (!config.redisUrl)
  throw new Error("REDIS_URL must be set: the transfer queue lives in Redis in services mode");
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
const queue = await openRedisQueue(redis, config.redisPrefix, TRANSFER_QUEUE, transferQueueOptions(config));
const { stores } = await openBlobStores(config.blobStores);
const transfer = startTransfer(
  config,
  clientFor(MetaService, httpTransport(config.serviceUrls.meta, secret)),
  stores,
  queue,
  log,
);
await runWorker({
  name: "transfer",
  port: portFor(process.env, "transfer"),
  config,
  log,
  modules: [transfer.module],
  verifier: createAccessTokenVerifier({
    keys: remoteKeys(config.serviceUrls.account),
    issuer: config.jwt.issuer,
  }),
  close: async () => {
    await transfer.stop();
    redis.disconnect();
  },
});
