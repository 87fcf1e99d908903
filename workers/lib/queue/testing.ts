// Test helper: the queue implementations the suites run against. SQLite (a temp file) always; Redis when
// TEST_REDIS_URL is set — CI sets it and insists, so the Redis half cannot silently vanish. Each opened
// queue is private (its own file, or its own key prefix, deleted by close()).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { openRedisQueue } from "./redis.ts";
import { openSqliteQueue } from "./sqlite.ts";
import type { Queue, QueueOptions } from "./types.ts";

export interface TestQueue {
  kind: "sqlite" | "redis";
  /**
   * Opens a fresh queue; a second call with the same `shared` handle opens the same queue again. `now`
   * is the queue's clock (backoffs, budgets; real time unless given).
   */
  open(
    options: QueueOptions,
    shared?: string,
    now?: () => number,
  ): Promise<{ queue: Queue; shared: string; drop(): Promise<void> }>;
}

export function testQueues(): TestQueue[] {
  const out: TestQueue[] = [
    {
      kind: "sqlite",
      async open(options, shared, now) {
        const dir = shared ?? mkdtempSync(join(tmpdir(), "filestore-queue-"));
        const queue = openSqliteQueue(join(dir, "queue.db"), "test", options, now);
        return {
          queue,
          shared: dir,
          async drop() {
            await queue.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  const url = process.env.TEST_REDIS_URL;
  if (!url && process.env.CI) throw new Error("CI must set TEST_REDIS_URL: the queue is tested on Redis too");
  if (url) {
    out.push({
      kind: "redis",
      async open(options, shared, now) {
        const prefix = shared ?? `qtest${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
        const redis = new Redis(url, { maxRetriesPerRequest: 2 });
        const queue = await openRedisQueue(redis, prefix, "test", options, now);
        return {
          queue,
          shared: prefix,
          async drop() {
            await queue.close();
            const keys = await redis.keys(`${prefix}*`);
            if (keys.length > 0) await redis.del(...keys);
            redis.disconnect();
          },
        };
      },
    });
  }
  return out;
}
