// AccountService as its own process (services mode).
import { createAccessTokenVerifier } from "../../core/access-token.ts";
import { ExpiringCache } from "../../core/cache.ts";
import { httpTransport } from "../lib/clients.ts";
import { loadConfig, portFor } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { createMetaClient } from "../lib/meta-client.ts";
import { degradingRateLimiter, memoryRateLimiter, redisRateLimiter } from "../lib/ratelimit.ts";
import { connected, failFastRedis } from "../lib/redis.ts";
import { requireInternalSecret, revokedSessionsFrom, runWorker } from "../lib/worker.ts";
import { loadSigningKey } from "./keys.ts";
import { accountModule } from "./routes.ts";

const config = loadConfig();
const secret = requireInternalSecret(config);
const key = await loadSigningKey(config.jwt);
const log = createLogger("account");
const meta = createMetaClient(httpTransport(config.serviceUrls.meta, secret));
const redis = config.redisUrl ? failFastRedis(config.redisUrl, log) : undefined;
if (redis) await connected(redis, 3000);
await runWorker({
  name: "account",
  port: portFor(process.env, "account"),
  config,
  log,
  modules: [
    accountModule({
      meta,
      key,
      limiter: redis
        ? degradingRateLimiter(redisRateLimiter(redis, config.redisPrefix), memoryRateLimiter(), log)
        : memoryRateLimiter(),
      issuer: config.jwt.issuer,
      accessTtlSeconds: config.jwt.accessTtlSeconds,
      refreshTtlSeconds: config.jwt.refreshTtlSeconds,
      signinLimit: config.signinLimit,
      log,
      now: Date.now,
      userCache: new ExpiringCache(10_000),
    }),
  ],
  verifier: createAccessTokenVerifier({
    keys: key.localKeys,
    issuer: config.jwt.issuer,
    revoked: revokedSessionsFrom(meta, config, log).revoked,
  }),
  close: async () => {
    // quit() is a command: with Redis down it fails at once, and then the socket is just closed.
    await redis?.quit().catch(() => redis.disconnect());
  },
});
