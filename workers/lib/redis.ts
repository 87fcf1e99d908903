// A Redis client for request paths (rate limits): while Redis is down a command fails at once, so its
// caller can fall back, instead of waiting in ioredis's offline queue for a reconnect that may never come.
import Redis, { type RedisOptions } from "ioredis";
import type { Logger } from "./log.ts";

export const FAIL_FAST_OPTIONS: RedisOptions = {
  // A command issued while disconnected fails at once, and one in flight when the connection drops is not
  // sent again after a reconnect.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  // A Redis that accepts connections but does not answer (paused, swapping).
  commandTimeout: 1000,
};

/** Connects (and keeps reconnecting) in the background; connection errors are logged once per outage. */
export function failFastRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, FAIL_FAST_OPTIONS);
  let reported = false;
  redis.on("error", (err: Error) => {
    if (reported) return;
    reported = true;
    log.warn("redis unreachable; retrying in the background", { err: String(err) });
  });
  redis.on("ready", () => {
    if (reported) log.info("redis reachable again");
    reported = false;
  });
  return redis;
}

/**
 * Resolves once the client is connected, or after `ms` if Redis is down: a process starting waits a little
 * so that its first requests do not take a Redis still connecting for an outage.
 */
export function connected(redis: Redis, ms: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once("ready", done);
  });
}
