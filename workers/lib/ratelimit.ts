// Fixed-window counters: in memory (all-in-one) or in Redis (shared by replicas).
import type Redis from "ioredis";

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
