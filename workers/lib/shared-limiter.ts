// The rate limiter of a worker whose limits must hold across replicas: in Redis when REDIS_URL is set
// (in this process's memory while Redis is down), else in memory. The account worker's sign-in limits and
// the file worker's share-password limits both open theirs here.
import type { Logger } from "./log.ts";
import { degradingRateLimiter, memoryRateLimiter, type RateLimiter, redisRateLimiter } from "./ratelimit.ts";
import { connected, failFastRedis } from "./redis.ts";

export interface SharedLimiter {
  limiter: RateLimiter;
  /** Closes the Redis connection, if one was opened. */
  close(): Promise<void>;
}

/** `given`: the composer's limiter (all-in-one: memory), used as it is; nothing is opened then. */
export async function openSharedLimiter(
  config: { redisUrl: string | undefined; redisPrefix: string },
  log: Logger,
  given?: RateLimiter,
): Promise<SharedLimiter> {
  const redis = !given && config.redisUrl ? failFastRedis(config.redisUrl, log) : undefined;
  if (redis) await connected(redis, 3000);
  const limiter =
    given ??
    (redis
      ? degradingRateLimiter(redisRateLimiter(redis, config.redisPrefix), memoryRateLimiter(), log)
      : memoryRateLimiter());
  return {
    limiter,
    // quit() is a command: with Redis down it fails at once, and then the socket is just closed.
    close: async () => {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
