// One suite, run on both buses (memory always; Redis Streams when TEST_REDIS_URL is set — CI insists),
// then Redis outages on a private redis-server: a restart that keeps its data loses no event, one that
// loses its data makes subscribers reload.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { freePorts } from "../../../e2e/harness.ts";
import { startRedisServer } from "../../../e2e/redis-server.ts";
import type { Logger } from "../log.ts";
import { Fanout } from "./fanout.ts";
import { memoryBus } from "./memory.ts";
import { redisBus } from "./redis.ts";
import type { Delivery, EventBus } from "./types.ts";

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl && process.env.CI)
  throw new Error("CI must set TEST_REDIS_URL: the Redis bus is tested for real");

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const prefixes: string[] = [];
const newPrefix = () => {
  const p = `test-bus-${crypto.randomUUID()}:`;
  prefixes.push(p);
  return p;
};
afterAll(async () => {
  if (!redisUrl) return;
  const r = new Redis(redisUrl);
  for (const p of prefixes) {
    const keys = await r.keys(`${p}*`);
    if (keys.length) await r.del(...keys);
  }
  await r.quit();
});

const kinds: [string, (retain: number) => EventBus][] = [["memory", (retain) => memoryBus({ retain })]];
if (redisUrl)
  kinds.push(["redis", (retain) => redisBus({ url: redisUrl, prefix: newPrefix(), retain, log: quiet })]);

/** Collects what a subscription yields in the background, until `stop`. */
function collect(bus: EventBus, after = "", topic: "files" | "links" = "files") {
  const stop = new AbortController();
  const got: Delivery[] = [];
  const running = (async () => {
    for await (const d of bus.subscribe(topic, after, stop.signal)) got.push(d);
  })();
  return {
    got,
    bodies: () => got.map((d) => (d.reload ? "RELOAD" : d.body)),
    async until(n: number, ms = 20_000) {
      for (const end = Date.now() + ms; got.length < n && Date.now() < end; ) await Bun.sleep(10);
      return got;
    },
    async stop() {
      stop.abort();
      await running;
    },
  };
}

const numbered = (from: number, n: number) => Array.from({ length: n }, (_, i) => `e${from + i}`);

for (const [kind, open] of kinds) {
  describe(`event bus: ${kind}`, () => {
    const opened: EventBus[] = [];
    const bus = (retain = 1000) => {
      const b = open(retain);
      opened.push(b);
      return b;
    };
    afterEach(async () => {
      for (const b of opened.splice(0)) await b.close();
    });

    test("subscribers from now on get every event in publishing order, each topic its own", async () => {
      const b = bus();
      await b.publish("files", "before");
      await b.ready("files");
      await b.ready("links");
      const files = collect(b);
      const links = collect(b, "", "links");
      const ids = await Promise.all(numbered(0, 300).map((e) => b.publish("files", e)));
      await b.publish("links", "revoked");
      expect((await files.until(300)).map((d) => d.id)).toEqual(ids);
      expect(files.bodies()).toEqual(numbered(0, 300));
      expect((await links.until(1)).length).toBe(1);
      expect(links.bodies()).toEqual(["revoked"]);
      await Bun.sleep(50);
      expect(files.got).toHaveLength(300);
      await files.stop();
      await links.stop();
    });

    test("a subscriber that comes back with its last id resumes right after it", async () => {
      const b = bus();
      const ids = [];
      for (const e of numbered(0, 700)) ids.push(await b.publish("files", e));
      const resumed = collect(b, ids[199]);
      await resumed.until(500);
      for (const e of numbered(700, 50)) await b.publish("files", e);
      await resumed.until(550);
      expect(resumed.bodies()).toEqual(numbered(200, 550));
      await resumed.stop();
    });

    test("a cursor older than the retained events: told to reload, then the events after the newest", async () => {
      const b = bus(100);
      const first = await b.publish("files", "first");
      for (const e of numbered(0, 1000)) await b.publish("files", e);
      const late = collect(b, first);
      await late.until(1);
      await b.publish("files", "after");
      await late.until(2);
      expect(late.bodies()).toEqual(["RELOAD", "after"]);
      expect(late.got[0]?.id).toBeTruthy();
      await late.stop();
    });

    test("a cursor the bus never gave out (another process lifetime, another Redis): reload", async () => {
      const b = bus();
      await b.publish("files", "x");
      const stranger = collect(b, "1-1");
      await stranger.until(1);
      expect(stranger.bodies()).toEqual(["RELOAD"]);
      await stranger.stop();
    });
  });
}

describe("fanout", () => {
  test("a subscriber that falls too far behind gets one reload in place of what it missed", async () => {
    const fan = new Fanout(5);
    const stop = new AbortController();
    const it = fan.follow(undefined, stop.signal);
    for (let i = 1; i <= 8; i++) fan.deliver({ id: `1-${i}`, body: `e${i}` });
    const got: Delivery[] = [];
    for await (const d of it) {
      got.push(d);
      if (got.length === 1) fan.deliver({ id: "1-9", body: "e9" });
      if (got.length === 2) break;
    }
    // The queue held e1..e5; e6 overflowed it: a reload (at e6), then what came after.
    expect(got).toEqual([
      { reload: true, id: "1-6" },
      { id: "1-7", body: "e7" },
    ]);
    expect(fan.size()).toBe(0);
  });
});

describe.skipIf(!redisUrl)("event bus: Redis outages", () => {
  test("Redis killed and restarted with its data: publishing never fails, no event is lost or doubled", async () => {
    const [port] = (await freePorts(1)) as [number];
    const server = await startRedisServer(port, { persist: true });
    const b = redisBus({ url: server.url, prefix: "t:", retain: 10_000, log: quiet });
    try {
      await b.ready("files");
      const watcher = collect(b);
      await Promise.all(numbered(0, 200).map((e) => b.publish("files", e)));
      await watcher.until(200);
      await server.kill();
      // Published while Redis is down: they wait here.
      const during = numbered(200, 200).map((e) => b.publish("files", e));
      expect(b.pending()).toBeGreaterThan(0);
      await server.restart();
      await Promise.all(during);
      await Promise.all(numbered(400, 200).map((e) => b.publish("files", e)));
      await watcher.until(600);
      await Bun.sleep(100);
      expect(watcher.bodies()).toEqual(numbered(0, 600));
      // A watcher that reconnects from before the outage resumes too.
      const resumed = collect(b, watcher.got[99]?.id);
      await resumed.until(500);
      expect(resumed.bodies()).toEqual(numbered(100, 500));
      await watcher.stop();
      await resumed.stop();
    } finally {
      await b.close();
      await server.stop();
    }
  }, 60_000);

  test("Redis restarted without its data: subscribers are told to reload, then follow again", async () => {
    const [port] = (await freePorts(1)) as [number];
    const server = await startRedisServer(port);
    const b = redisBus({ url: server.url, prefix: "t:", retain: 10_000, log: quiet });
    try {
      await b.ready("files");
      const watcher = collect(b);
      await b.publish("files", "before");
      await watcher.until(1);
      await server.kill();
      await server.restart();
      await watcher.until(2);
      await b.publish("files", "after");
      await watcher.until(3);
      expect(watcher.bodies()).toEqual(["before", "RELOAD", "after"]);
      await watcher.stop();
    } finally {
      await b.close();
      await server.stop();
    }
  }, 60_000);
});
