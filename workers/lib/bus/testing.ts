// The buses a test runs its suite on: memory always, Redis Streams when TEST_REDIS_URL is set (CI insists),
// under a key prefix of the test's own that is removed after the file's tests.
import { afterAll } from "bun:test";
import Redis from "ioredis";
import type { Logger } from "../log.ts";
import { memoryBus } from "./memory.ts";
import { redisBus } from "./redis.ts";
import type { EventBus } from "./types.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** [name, open] of each bus to test on; call at the top of a test file (it registers the clean-up). */
export function testBuses(name: string, retain = 1000): [string, () => EventBus][] {
  const redisUrl = process.env.TEST_REDIS_URL;
  if (!redisUrl && process.env.CI)
    throw new Error("CI must set TEST_REDIS_URL: the Redis bus is tested for real");
  const buses: [string, () => EventBus][] = [["memory", () => memoryBus({ retain })]];
  if (!redisUrl) return buses;
  const prefix = `test-${name}-${crypto.randomUUID()}:`;
  buses.push(["redis", () => redisBus({ url: redisUrl, prefix, retain, log: quiet })]);
  afterAll(async () => {
    const r = new Redis(redisUrl);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  });
  return buses;
}
