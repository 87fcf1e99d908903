import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { freePorts } from "../../e2e/harness.ts";
import { startRedisServer } from "../../e2e/redis-server.ts";
import type { Logger } from "./log.ts";
import { degradingRateLimiter, memoryRateLimiter, type RateLimiter, redisRateLimiter } from "./ratelimit.ts";
import { connected, failFastRedis } from "./redis.ts";
import { closedPort } from "./testing.ts";

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

function capture(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const push = (level: string) => (msg: string, f?: Record<string, unknown>) =>
    lines.push({ level, msg, ...f });
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}
const warnings = (log: { lines: Record<string, unknown>[] }) => log.lines.filter((l) => l.level === "warn");

/** Resolves to the call's result, or throws if it has not settled within `ms` (a hung call, not a slow one). */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    Bun.sleep(ms).then(() => {
      throw new Error(`no answer within ${ms} ms`);
    }),
  ]);
}

describe("Redis down: the limiter counts in memory and says so once", () => {
  test("a Redis that was never there (a closed port): every call answers, one warning", async () => {
    const log = capture();
    const redis = failFastRedis(`redis://127.0.0.1:${closedPort()}`, log);
    try {
      const l = degradingRateLimiter(redisRateLimiter(redis, "t:"), memoryRateLimiter(), log, 50);
      for (let i = 1; i <= 20; i++) {
        expect((await within(10_000, l.hit("k", 60))).count).toBe(i);
        if (i % 5 === 0) await Bun.sleep(60); // past the probe interval: Redis is asked again, and fails again
      }
      expect((await l.peek("k")).count).toBe(20);
      await l.reset("k");
      expect((await l.peek("k")).count).toBe(0);
      const limiterWarnings = warnings(log).filter((w) => String(w.msg).startsWith("redis failed"));
      expect(limiterWarnings).toHaveLength(1);
      // The client's reconnect errors are one line per outage too, not one per retry.
      expect(warnings(log).filter((w) => String(w.msg).startsWith("redis unreachable"))).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });

  test("a Redis that stops mid-way: calls keep answering from memory, then go back to Redis when it returns", async () => {
    const [port] = (await freePorts(1)) as [number];
    const server = await startRedisServer(port);
    const log = capture();
    const redis = failFastRedis(server.url, log);
    const direct = new Redis(server.url, { lazyConnect: true, retryStrategy: () => 50 });
    direct.on("error", () => {});
    try {
      await connected(redis, 10_000);
      const l = degradingRateLimiter(redisRateLimiter(redis, "t:"), memoryRateLimiter(), log, 100);
      expect((await l.hit("before", 60)).count).toBe(1);
      expect(await direct.get("t:rl:before")).toBe("1");

      await server.kill();
      // Let the client fail a few reconnects before Redis comes back.
      const unreachable = () => warnings(log).filter((w) => String(w.msg).startsWith("redis unreachable"));
      for (const until = Date.now() + 10_000; unreachable().length === 0 && Date.now() < until; )
        await Bun.sleep(20);
      await Bun.sleep(500);
      for (let i = 1; i <= 10; i++) expect((await within(10_000, l.hit("during", 60))).count).toBe(i);
      expect(warnings(log).filter((w) => String(w.msg).startsWith("redis failed"))).toHaveLength(1);

      await server.restart();
      let back = false;
      for (const until = Date.now() + 20_000; !back && Date.now() < until; await Bun.sleep(100)) {
        await l.hit("after", 60);
        back = (await direct.get("t:rl:after").catch(() => null)) !== null;
      }
      expect(back).toBe(true);
      expect(log.lines.filter((x) => x.msg === "rate limits back on redis")).toHaveLength(1);
      expect(warnings(log).filter((w) => String(w.msg).startsWith("redis failed"))).toHaveLength(1);
      // The client's own line about the outage: once, however many reconnects failed.
      expect(unreachable()).toHaveLength(1);
      expect(log.lines.filter((x) => x.msg === "redis reachable again")).toHaveLength(1);
    } finally {
      direct.disconnect();
      redis.disconnect();
      await server.stop();
    }
  });
});
