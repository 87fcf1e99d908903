// S3 away and back, on both queues (the SQLite queue; Redis Streams when TEST_REDIS_URL is set): "away"
// is a real S3 client pointed at a closed port (connection refused), "back" the test RGW bucket. A job
// outlives many more attempts than the old budget of 8 and moves once S3 returns; a dead letter S3
// caused is re-driven by the worker itself when S3 answers again; one it did not cause stays.
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createS3BlobStore } from "../lib/blobstore/s3/index.ts";
import { testBlobStores, testS3Settings } from "../lib/blobstore/testing.ts";
import type { BlobStore } from "../lib/blobstore/types.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { testQueues } from "../lib/queue/testing.ts";
import type { QueueOptions } from "../lib/queue/types.ts";
import { TransferCounters } from "./counters.ts";
import { S3_FAILED } from "./failure.ts";
import { redriveJob } from "./redrive.ts";
import { openTransferFixture, type TransferFixture } from "./testing.ts";
import { relay, runJob, startTransferWorker } from "./transfer.ts";

const s3 = testBlobStores().find((b) => b.backend === "s3");
const settings = testS3Settings();

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A store that is S3 at a closed port until back() is called, then the real bucket. */
async function awayThenBack(real: BlobStore): Promise<{ store: BlobStore; back(): void }> {
  const away = await createS3BlobStore({
    ...(settings as NonNullable<typeof settings>),
    endPoint: `http://127.0.0.1:${await closedPort()}`,
    bucket: "away",
    createBucket: false,
  });
  let current: BlobStore = away;
  const store = new Proxy(real, {
    get(_, p) {
      const v = Reflect.get(current, p);
      return typeof v === "function" ? v.bind(current) : v;
    },
  });
  return {
    store,
    back: () => {
      current = real;
    },
  };
}

/** A logger that also keeps the lines' messages and fields. */
function recordingLogger(): { log: Logger; lines: { msg: string; fields?: Record<string, unknown> }[] } {
  const base = createLogger("test");
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const keep =
    (level: keyof Logger) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ msg, fields });
      base[level](msg, fields);
    };
  return {
    log: { debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") },
    lines,
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

for (const kind of testQueues()) {
  describe.if(s3 !== undefined)(`transfer while S3 is away, ${kind.kind} queue`, () => {
    let f: TransferFixture;
    let s3Link: Awaited<ReturnType<typeof awayThenBack>>;
    let counters: TransferCounters;
    let logged: ReturnType<typeof recordingLogger>;

    async function open(options: QueueOptions) {
      logged = recordingLogger();
      f = await openTransferFixture(s3 as NonNullable<typeof s3>, () => kind.open(options), {
        log: logged.log,
      });
      s3Link = await awayThenBack(f.bucket.store);
      counters = new TransferCounters();
      f.deps = { ...f.deps, target: s3Link.store, counters };
    }
    afterEach(async () => {
      await f?.close();
    });

    test("a job outlives 8 failed attempts and more, and moves once S3 is back", async () => {
      await open({ visibilityMs: 60_000, retryForMs: 86_400_000, backoffBaseMs: 1, backoffMaxMs: 5 });
      const { sha256, body } = await f.upload();
      await relay(f.deps);
      let m = (await f.queue.receive("c", 1, 5000))[0];
      for (let attempt = 1; attempt <= 12; attempt++) {
        expect(m?.attempt).toBe(attempt);
        expect(await runJob(f.deps, m as NonNullable<typeof m>)).toBe("retry");
        const job = await f.jobOf(sha256);
        expect([job?.state, job?.attempts]).toEqual(["queued", attempt]);
        expect(job?.lastError).toContain("ECONNREFUSED");
        m = (await f.queue.receive("c", 1, 5000))[0];
      }
      expect(await f.queue.deadLetters(10)).toEqual([]);
      s3Link.back();
      expect(m?.attempt).toBe(13);
      expect(await runJob(f.deps, m as NonNullable<typeof m>)).toBe("moved");
      const blob = await f.blobOf(sha256);
      expect(blob?.backend).toBe("s3");
      const stored = await f.bucket.store.read(blob?.location as string);
      expect(new Uint8Array(await new Response(stored).arrayBuffer())).toEqual(body);
      expect(counters.snapshot()).toEqual({ succeeded: 1, retried: 12, deadLettered: 0, redriven: 0 });
    }, 60_000);

    test("the worker re-drives a dead letter S3 caused when S3 answers again; one it did not cause stays", async () => {
      await open({ visibilityMs: 60_000, retryForMs: 300, backoffBaseMs: 20, backoffMaxMs: 50 });
      const away = await f.upload();
      const gone = await f.upload();
      rmSync(join(f.dir, "blobs", gone.location)); // the local copy is lost: no retry brings it back
      const worker = startTransferWorker(f.deps, {
        consumer: "w",
        concurrency: 1,
        pollMs: 100,
        graceMs: 5000,
        redriveMs: 100,
      });
      try {
        const dead = await until("both jobs to fail", async () => {
          const letters = await f.queue.deadLetters(10);
          return letters.length === 2 ? letters : undefined;
        });
        expect(Object.fromEntries(dead.map((d) => [d.key, d.cause]))).toEqual({
          [away.sha256]: S3_FAILED,
          [gone.sha256]: "local-copy-gone",
        });
        expect(dead.find((d) => d.key === gone.sha256)?.attempts).toBe(1); // no retry for a lost copy
        expect((await f.jobOf(away.sha256))?.state).toBe("failed");
        // While S3 stays away, the worker keeps looking, and re-drives nothing.
        await Bun.sleep(500);
        expect(counters.snapshot().redriven).toBe(0);
        expect(await f.queue.deadLetters(10)).toHaveLength(2);

        s3Link.back();
        await until("the re-driven job to finish", async () => {
          const job = await f.jobOf(away.sha256);
          return job?.state === "done" ? job : undefined;
        });
        expect((await f.blobOf(away.sha256))?.backend).toBe("s3");
        expect((await f.queue.deadLetters(10)).map((d) => d.key)).toEqual([gone.sha256]);
        expect((await f.jobOf(gone.sha256))?.state).toBe("failed");
        const counts = counters.snapshot();
        expect([counts.succeeded, counts.deadLettered, counts.redriven]).toEqual([1, 2, 1]);
        expect(counts.retried).toBeGreaterThan(0);
        const redrives = logged.lines.filter((l) => l.msg === "re-drove dead letters: S3 answers again");
        expect(redrives.map((l) => l.fields?.jobs)).toEqual([1]);
        expect(redrives[0]?.fields?.totals).toMatchObject({ redriven: 1, deadLettered: 2 });
        await until("a counts line", async () =>
          logged.lines.find((l) => l.msg === "transfer counts" && l.fields?.succeeded === 1),
        );
      } finally {
        await worker.stop();
      }
    }, 60_000);

    test("RetryDeadLetter's re-drive finds a job's dead letter behind more than 10 000 others", async () => {
      await open({ visibilityMs: 60_000, maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1 });
      for (let i = 0; i < 10_001; i++) await f.queue.publish(i.toString(16).padStart(64, "0"), "x");
      const target = "f".repeat(64);
      await f.queue.publish(target, target);
      for (;;) {
        const got = await f.queue.receive("c", 500, 0);
        if (got.length === 0) break;
        for (const m of got) await f.queue.fail(m, "boom");
      }
      expect(await redriveJob(f.deps, target)).toBe(1);
      const again = await f.queue.receive("c", 10, 1000);
      expect(again.map((m) => [m.key, m.attempt])).toEqual([[target, 1]]);
    }, 120_000);
  });
}
