// The transfer worker as its own process (services mode): consumes transfer jobs from the Redis stream
// (local disk → S3) and serves TransferService. Under the transfer storage policy it needs the upload
// workers' local blob directory (BLOB_DIR, a shared volume) and the S3 settings.
import Redis from "ioredis";
import { openBlobStores } from "../lib/blobstore/index.ts";
import { portFor } from "../lib/config.ts";
import { openRedisQueue } from "../lib/queue/redis.ts";
import { runWorker, workerBasics } from "../lib/worker.ts";
import { startTransfer, TRANSFER_QUEUE, transferQueueOptions } from "./deps.ts";

const { config, log, verifier, meta } = workerBasics("transfer");
if (!config.redisUrl)
  throw new Error("REDIS_URL must be set: the transfer queue lives in Redis in services mode");
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
const queue = await openRedisQueue(redis, config.redisPrefix, TRANSFER_QUEUE, transferQueueOptions(config));
const { stores } = await openBlobStores(config.blobStores);
const transfer = startTransfer(config, meta, stores, queue, log);
await runWorker({
  name: "transfer",
  port: portFor(process.env, "transfer"),
  config,
  log,
  modules: [transfer.module],
  verifier,
  close: async () => {
    await transfer.stop();
    redis.disconnect();
  },
});
