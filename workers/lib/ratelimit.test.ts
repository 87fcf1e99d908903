import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { memoryRateLimiter, type RateLimiter, redisRateLimiter } from "./ratelimit.ts";

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl && process.env.CI)
  throw new Error("CI must set TEST_REDIS_URL: the Redis limiter is tested for real");
const redis = redisUrl ? new Redis(redisUrl) : undefined;
afterAll(() => redis?.quit());

const limiters: [string, () => RateLimiter][] = [["memory", () => memoryRateLimiter()]];
if (redis) limiters.push(["redis", () => redisRateLimiter(redis, `test${Date.now()}${Math.random()}:`)]);

for (const [name, make] of limiters) {
  describe(`${name} rate limiter`, () => {
    test("counts hits per key within a window and resets", async () => {
      const l = make();
      expect((await l.hit("a", 60)).count).toBe(1);
      expect((await l.hit("a", 60)).count).toBe(2);
      expect((await l.hit("b", 60)).count).toBe(1);
      const w = await l.peek("a");
      expect(w.count).toBe(2);
      expect(w.resetInSeconds).toBeGreaterThan(0);
      expect(w.resetInSeconds).toBeLessThanOrEqual(60);
      await l.reset("a");
      expect((await l.peek("a")).count).toBe(0);
    });

    test("a window expires", async () => {
      const l = make();
      await l.hit("short", 1);
      await Bun.sleep(1100);
      expect((await l.peek("short")).count).toBe(0);
      expect((await l.hit("short", 1)).count).toBe(1);
    });

    test("concurrent hits are all counted", async () => {
      const l = make();
      await Promise.all(Array.from({ length: 50 }, () => l.hit("c", 60)));
      expect((await l.peek("c")).count).toBe(50);
    });
  });
}
