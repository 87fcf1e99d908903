// One suite, run against both queues (SQLite always; Redis Streams when TEST_REDIS_URL is set — CI
// insists). Timings use real clocks with small delays and generous margins.
import { afterEach, describe, expect, test } from "bun:test";
import { testQueues } from "./testing.ts";
import { backoffMs, type Queue, type QueueOptions, TIMED_OUT } from "./types.ts";

const options = {
  visibilityMs: 300,
  maxAttempts: 3,
  backoffBaseMs: 200,
  backoffMaxMs: 10_000,
  random: () => 1, // no jitter: the full delay, so the timings below are exact lower bounds
} satisfies QueueOptions;

describe("backoff", () => {
  test("doubles per attempt, is capped, and jitters between half and all of it", () => {
    const o = { ...options, backoffMaxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(o, a))).toEqual([200, 400, 800, 1000, 1000]);
    expect(backoffMs({ ...o, random: () => 0 }, 2)).toBe(200);
    const seen = new Set(Array.from({ length: 50 }, () => backoffMs({ ...o, random: Math.random }, 3)));
    expect(seen.size).toBeGreaterThan(1);
    for (const d of seen) expect(d >= 400 && d <= 800).toBe(true);
  });
});

for (const kind of testQueues()) {
  describe(`queue: ${kind.kind}`, () => {
    const drops: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const d of drops.splice(0).reverse()) await d();
    });
    async function open(o = options, shared?: string) {
      const q = await kind.open(o, shared);
      drops.push(q.drop);
      return q;
    }
    const receiveOne = async (q: Queue, consumer: string, waitMs = 50) => {
      const got = await q.receive(consumer, 10, waitMs);
      expect(got.length).toBeLessThanOrEqual(1);
      return got[0];
    };

    test("publish, receive, ack: delivered once, then gone", async () => {
      const { queue } = await open();
      await queue.publish("k1", "body-1");
      await queue.publish("k2", "body-2");
      const got = await queue.receive("c1", 10, 1000);
      expect(got.map((m) => [m.key, m.body, m.attempt, m.consumer])).toEqual([
        ["k1", "body-1", 1, "c1"],
        ["k2", "body-2", 1, "c1"],
      ]);
      expect(await queue.receive("c2", 10, 50)).toEqual([]); // held by c1
      for (const m of got) await queue.ack(m);
      await Bun.sleep(options.visibilityMs + 100);
      expect(await queue.receive("c2", 10, 50)).toEqual([]);
      expect(await queue.deadLetters(10)).toEqual([]);
    });

    test("a message's trace travels with it: delivery, retry after a backoff, re-driven dead letter", async () => {
      const { queue } = await open({ ...options, maxAttempts: 2, backoffBaseMs: 50 });
      const trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
      await queue.publish("traced", "b", trace);
      await queue.publish("untraced", "b");
      const got = await queue.receive("c1", 10, 1000);
      expect(got.map((m) => [m.key, m.trace])).toEqual([
        ["traced", trace],
        ["untraced", ""],
      ]);
      await queue.ack(got[1] as (typeof got)[number]);
      expect(await queue.fail(got[0] as (typeof got)[number], "flaky")).toBe("retry");
      await Bun.sleep(150);
      const again = await receiveOne(queue, "c2", 1000);
      expect([again?.attempt, again?.trace]).toEqual([2, trace]);
      expect(await queue.fail(again as NonNullable<typeof again>, "still flaky")).toBe("dead");
      const [letter] = await queue.deadLetters(10);
      expect(await queue.retryDead(letter?.id ?? "")).toBe(true);
      const revived = await receiveOne(queue, "c3", 1000);
      expect([revived?.key, revived?.attempt, revived?.trace]).toEqual(["traced", 1, trace]);
    });

    test("a waiting receive returns as soon as a message is published", async () => {
      const { queue } = await open();
      const started = Date.now();
      const waiting = queue.receive("c1", 1, 5000);
      await Bun.sleep(100);
      await queue.publish("k", "b");
      const got = await waiting;
      expect(got.map((m) => m.key)).toEqual(["k"]);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    test("a message whose consumer died is delivered again after the visibility timeout", async () => {
      const { queue, shared } = await open();
      await queue.publish("k", "b");
      const first = await receiveOne(queue, "dead-consumer", 1000);
      expect(first?.attempt).toBe(1);
      // Another process (a restarted worker) sees it once the dead consumer's visibility ran out.
      const other = await open(options, shared);
      expect(await other.queue.receive("survivor", 10, 0)).toEqual([]);
      await Bun.sleep(options.visibilityMs + 100);
      const again = await receiveOne(other.queue, "survivor");
      expect([again?.key, again?.attempt, again?.consumer]).toEqual(["k", 2, "survivor"]);
      // The dead consumer's late ack does not remove the survivor's delivery.
      await queue.ack(first as NonNullable<typeof first>);
      await Bun.sleep(options.visibilityMs + 100);
      const third = await receiveOne(other.queue, "survivor");
      expect(third?.attempt).toBe(3);
      await other.queue.ack(third as NonNullable<typeof third>);
    });

    test("touch keeps a long-running message from being delivered elsewhere", async () => {
      const { queue } = await open();
      await queue.publish("k", "b");
      const m = await receiveOne(queue, "busy", 1000);
      for (let i = 0; i < 4; i++) {
        await Bun.sleep(options.visibilityMs / 2);
        await queue.touch(m as NonNullable<typeof m>);
      }
      expect(await queue.receive("other", 10, 0)).toEqual([]);
      await queue.ack(m as NonNullable<typeof m>);
    });

    test("a failed attempt comes back after an exponential backoff, then becomes a dead letter", async () => {
      const { queue } = await open();
      await queue.publish("k", "payload");
      let m = await receiveOne(queue, "c", 1000);
      for (let attempt = 1; attempt < options.maxAttempts; attempt++) {
        expect([m?.attempt, m?.body]).toEqual([attempt, "payload"]);
        const failedAt = Date.now();
        expect(await queue.fail(m as NonNullable<typeof m>, `boom ${attempt}`)).toBe("retry");
        const delay = backoffMs(options, attempt); // 200, then 400 (no jitter here)
        // Not before the backoff...
        expect(await queue.receive("c", 10, delay - 100)).toEqual([]);
        // ...but soon after.
        m = await receiveOne(queue, "c", 3000);
        const waited = Date.now() - failedAt;
        expect(waited).toBeGreaterThanOrEqual(delay - 20);
        expect(waited).toBeLessThan(delay + 2000);
      }
      expect(m?.attempt).toBe(options.maxAttempts);
      expect(await queue.fail(m as NonNullable<typeof m>, "boom 3")).toBe("dead");
      expect(await queue.receive("c", 10, 1000)).toEqual([]);
      const dead = await queue.deadLetters(10);
      expect(dead.map((d) => [d.key, d.body, d.attempts, d.error])).toEqual([
        ["k", "payload", options.maxAttempts, "boom 3"],
      ]);
      expect(Math.abs((dead[0]?.failedAt ?? 0) - Date.now())).toBeLessThan(10_000);
    });

    test("a dead letter retried runs again with its attempts reset", async () => {
      const { queue } = await open({ ...options, maxAttempts: 1 });
      await queue.publish("k", "b");
      const m = await receiveOne(queue, "c", 1000);
      expect(await queue.fail(m as NonNullable<typeof m>, "S3 is down")).toBe("dead");
      const [dead] = await queue.deadLetters(10);
      expect([dead?.key, dead?.error, dead?.attempts]).toEqual(["k", "S3 is down", 1]);
      expect(await queue.retryDead("no-such-id")).toBe(false);
      expect(await queue.retryDead(dead?.id as string)).toBe(true);
      expect(await queue.retryDead(dead?.id as string)).toBe(false); // once
      expect(await queue.deadLetters(10)).toEqual([]);
      const again = await receiveOne(queue, "c", 1000);
      expect([again?.key, again?.body, again?.attempt]).toEqual(["k", "b", 1]);
      await queue.ack(again as NonNullable<typeof again>);
    });

    test("a consumer dying on the last attempt makes a dead letter, not an endless loop", async () => {
      const { queue } = await open({ ...options, maxAttempts: 2 });
      await queue.publish("k", "b");
      expect((await receiveOne(queue, "c1", 1000))?.attempt).toBe(1);
      await Bun.sleep(options.visibilityMs + 100);
      expect((await receiveOne(queue, "c2"))?.attempt).toBe(2);
      await Bun.sleep(options.visibilityMs + 100);
      expect(await queue.receive("c3", 10, 50)).toEqual([]);
      const dead = await queue.deadLetters(10);
      expect(dead.map((d) => [d.key, d.attempts, d.error])).toEqual([["k", 2, TIMED_OUT]]);
    });

    test("a failure reported by a consumer that lost the message changes nothing", async () => {
      const { queue } = await open();
      await queue.publish("k", "b");
      const stale = await receiveOne(queue, "slow", 1000);
      await Bun.sleep(options.visibilityMs + 100);
      const fresh = await receiveOne(queue, "fast");
      await queue.fail(stale as NonNullable<typeof stale>, "late");
      await queue.ack(fresh as NonNullable<typeof fresh>);
      await Bun.sleep(options.visibilityMs + 100);
      expect(await queue.receive("c", 10, 50)).toEqual([]);
      expect(await queue.deadLetters(10)).toEqual([]);
    });
  });
}
