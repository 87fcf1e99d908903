// AccountService as its own process (services mode).
import Redis from "ioredis";
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { createAccessTokenVerifier } from "../lib/access-token.ts";
import { ExpiringCache } from "../lib/cache.ts";
import { clientFor, httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { memoryRateLimiter, redisRateLimiter } from "../lib/ratelimit.ts";
import { requireInternalSecret, runWorker } from "../lib/worker.ts";
import { loadSigningKey } from "./keys.ts";
import { accountModule } from "./routes.ts";

const config = loadConfig();
const secret = requireInternalSecret(config);
const key = await loadSigningKey(config.jwt);
const log = createLogger("account");
const redis = config.redisUrl
  ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 })
  : undefined;
await runWorker({
  name: "account",
  log,
  port: portFor(process.env, "account"),
  config,
  modules: [
    accountModule({
      meta: clientFor(MetaService, httpTransport(config.serviceUrls.meta, secret)),
      key,
      limiter: redis ? redisRateLimiter(redis, config.redisPrefix) : memoryRateLimiter(),
      issuer: config.jwt.issuer,
      accessTtlSeconds: config.jwt.accessTtlSeconds,
      refreshTtlSeconds: config.jwt.refreshTtlSeconds,
      signinLimit: config.signinLimit,
      log,
      now: Date.now,
      userCache: new ExpiringCache(10_000),
    }),
  ],
  verifier: createAccessTokenVerifier({ keys: key.localKeys, issuer: config.jwt.issuer }),
  close: async () => {
    await redis?.quit();
  },
});
