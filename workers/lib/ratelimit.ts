// Fixed-window counters: in memory (all-in-one) or in Redis (shared by replicas), falling back to memory
// while Redis is down.
import type Redis from "ioredis";
import type { Logger } from "./log.ts";

export interface Window {
  count: number;
  resetInSeconds: number;
}

export interface RateLimiter {
  /** Adds one to the key's window and returns the new state. */
  hit(key: string, windowSeconds: number): Promise<Window>;
  /** The key's current window without adding. */
  peek(key: string): Promise<Window>;
  reset(key: string): Promise<void>;
}

export function memoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; until: number }>();
  const live = (key: string) => {
    const w = windows.get(key);
    if (w && w.until > now()) return w;
    windows.delete(key);
    return undefined;
  };
  const view = (w: { count: number; until: number } | undefined): Window =>
    w
      ? { count: w.count, resetInSeconds: Math.ceil((w.until - now()) / 1000) }
      : { count: 0, resetInSeconds: 0 };
  return {
    async hit(key, windowSeconds) {
      if (windows.size > 100_000) for (const k of windows.keys()) live(k); // drop expired windows
      const w = live(key) ?? { count: 0, until: now() + windowSeconds * 1000 };
      w.count++;
      windows.set(key, w);
      return view(w);
    },
    async peek(key) {
      return view(live(key));
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

export function redisRateLimiter(redis: Redis, keyPrefix: string): RateLimiter {
  const prefix = `${keyPrefix}rl:`;
  return {
    async hit(key, windowSeconds) {
      const [n, ttl] = (await redis.eval(HIT, 1, prefix + key, String(windowSeconds * 1000))) as [
        number,
        number,
      ];
      return { count: n, resetInSeconds: Math.ceil(Math.max(ttl, 0) / 1000) };
    },
    async peek(key) {
      const [n, ttl] = await Promise.all([redis.get(prefix + key), redis.pttl(prefix + key)]);
      return { count: Number(n ?? 0), resetInSeconds: Math.ceil(Math.max(ttl, 0) / 1000) };
    },
    async reset(key) {
      await redis.del(prefix + key);
    },
  };
}

/**
 * Counts in `primary` (Redis) and, while it fails, in `fallback` (this process's memory): a Redis outage
 * loosens the limits to per-process ones instead of failing every caller. One warning when an outage
 * starts and one line when it ends; meanwhile Redis is tried again at most every `probeMs`, so a Redis that
 * hangs costs one caller its command timeout per probe, not every caller.
 */
export function degradingRateLimiter(
  primary: RateLimiter,
  fallback: RateLimiter,
  log: Logger,
  probeMs = 1000,
  now: () => number = Date.now,
): RateLimiter {
  let downSince: number | undefined;
  let nextProbe = 0;
  const run = async <T>(op: (l: RateLimiter) => Promise<T>): Promise<T> => {
    const probing = downSince !== undefined;
    if (probing && now() < nextProbe) return op(fallback);
    try {
      const out = await op(primary);
      // Only a call made during the outage ends it: one sent before it may still be answering.
      if (probing && downSince !== undefined) {
        log.info("rate limits back on redis", { outageMs: now() - downSince });
        downSince = undefined;
      }
      return out;
    } catch (err) {
      if (downSince === undefined) {
        downSince = now();
        log.warn("redis failed: rate limits are counted in this process's memory until it answers", {
          err: String(err),
        });
      }
      nextProbe = now() + probeMs;
      return op(fallback);
    }
  };
  return {
    hit: (key, windowSeconds) => run((l) => l.hit(key, windowSeconds)),
    peek: (key) => run((l) => l.peek(key)),
    reset: (key) => run((l) => l.reset(key)),
  };
}
