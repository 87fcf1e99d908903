// The retry budget by time, failure causes, and dead letters by pages — on both queues (SQLite always;
// Redis Streams when TEST_REDIS_URL is set). A fake clock drives backoffs and budgets where it can.
import { afterEach, describe, expect, test } from "bun:test";
import { testQueues } from "./testing.ts";
import {
  allDeadLetters,
  backoffMs,
  type Message,
  type Queue,
  type QueueOptions,
  TIMED_OUT,
} from "./types.ts";

const DAY = 86_400_000;
/** The transfer worker's defaults: a day of retries, backoff from 2 s doubling to 10 min. */
const daylong = {
  visibilityMs: 60_000,
  retryForMs: DAY,
  backoffBaseMs: 2000,
  backoffMaxMs: 600_000,
  random: () => 1,
} satisfies QueueOptions;

for (const kind of testQueues()) {
  describe(`queue budget: ${kind.kind}`, () => {
    const drops: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const d of drops.splice(0).reverse()) await d();
    });
    async function open(options: QueueOptions, now?: () => number) {
      const q = await kind.open(options, undefined, now);
      drops.push(q.drop);
      return q.queue;
    }
    const one = async (q: Queue, waitMs = 0): Promise<Message | undefined> => {
      const got = await q.receive("c", 10, waitMs);
      expect(got.length).toBeLessThanOrEqual(1);
      return got[0];
    };

    test("a failing message is retried by time: far past eight attempts, backoff capped, dead after the day", async () => {
      const clock = { t: 1_700_000_000_000 };
      const queue = await open(daylong, () => clock.t);
      await queue.publish("k", "b");
      let m = await one(queue);
      const first = clock.t;
      expect([m?.attempt, m?.firstAttemptAt]).toEqual([1, first]);
      for (let attempt = 1; attempt <= 30; attempt++) {
        expect(await queue.fail(m as Message, "S3: connect ECONNREFUSED", { cause: "s3" })).toBe("retry");
        const delay = backoffMs(daylong, attempt);
        expect(delay).toBe(Math.min(2000 * 2 ** (attempt - 1), 600_000));
        clock.t += delay - 1;
        expect(await one(queue)).toBeUndefined(); // not before its backoff
        clock.t += 1;
        m = await one(queue);
        expect([m?.attempt, m?.firstAttemptAt]).toEqual([attempt + 1, first]);
      }
      expect(clock.t - first).toBeLessThan(DAY); // 30 attempts took ~4 h of backoff
      clock.t = first + DAY;
      expect(await queue.fail(m as Message, "S3: connect ECONNREFUSED", { cause: "s3" })).toBe("dead");
      expect(await one(queue)).toBeUndefined();
      const dead = await queue.deadLetters(10);
      expect(dead.map((d) => [d.key, d.attempts, d.error, d.cause, d.failedAt])).toEqual([
        ["k", 31, "S3: connect ECONNREFUSED", "s3", first + DAY],
      ]);
      // Retried: a fresh budget and no cause.
      expect(await queue.retryDead(dead[0]?.id as string)).toBe(true);
      clock.t += 1000;
      const again = await one(queue);
      expect([again?.attempt, again?.firstAttemptAt]).toEqual([1, clock.t]);
      expect(await queue.fail(again as Message, "still down")).toBe("retry");
    });

    test("a permanent failure is a dead letter at once, with its cause", async () => {
      const queue = await open(daylong);
      await queue.publish("k", "b");
      const m = await one(queue, 1000);
      expect(
        await queue.fail(m as Message, "the local copy is gone", { permanent: true, cause: "gone" }),
      ).toBe("dead");
      expect((await queue.deadLetters(10)).map((d) => [d.attempts, d.error, d.cause])).toEqual([
        [1, "the local copy is gone", "gone"],
      ]);
    });

    test("a consumer that keeps dying ends a dead letter once the time is spent", async () => {
      const queue = await open({ ...daylong, visibilityMs: 300, retryForMs: 500 });
      await queue.publish("k", "b");
      expect((await one(queue, 1000))?.attempt).toBe(1);
      await Bun.sleep(400); // silent past its visibility, within the budget: delivered again
      expect((await one(queue))?.attempt).toBe(2);
      await Bun.sleep(400); // silent again, the budget spent
      expect(await one(queue)).toBeUndefined();
      expect((await queue.deadLetters(10)).map((d) => [d.attempts, d.error, d.cause])).toEqual([
        [2, TIMED_OUT, ""],
      ]);
    });

    test("dead letters page completely, also while some are retried between pages", async () => {
      const clock = { t: 1_700_000_000_000 };
      const queue = await open({ ...daylong, maxAttempts: 1 }, () => clock.t);
      const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, "0")}`);
      for (const k of keys) await queue.publish(k, k);
      const got = await queue.receive("c", 100, 1000);
      expect(got).toHaveLength(25);
      for (const m of got) {
        clock.t += 1; // one dead letter per millisecond, some in the same one
        if (m.key.endsWith("3")) clock.t -= 1;
        expect(await queue.fail(m, `boom ${m.key}`)).toBe("dead");
      }
      const seen: string[] = [];
      let after: Awaited<ReturnType<Queue["deadLetters"]>>[number] | undefined;
      for (;;) {
        const page = await queue.deadLetters(10, after);
        seen.push(...page.map((d) => d.key));
        // Retrying the page's first letter does not disturb the next page.
        if (page[0]) expect(await queue.retryDead(page[0].id)).toBe(true);
        if (page.length < 10) break;
        after = page.at(-1);
      }
      expect(seen).toEqual(keys);
      const left: string[] = [];
      for await (const d of allDeadLetters(queue, 4)) left.push(d.key);
      expect(left).toEqual(keys.filter((k) => !["k00", "k10", "k20"].includes(k)));
    });
  });
}
