// The transfer logic against real stores (local disk → S3 on Ceph RGW; skipped without TEST_S3_*, which
// CI insists on), meta on in-memory SQLite through the real interceptors, and the SQLite queue.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { storeForAll } from "../lib/blobstore/index.ts";
import { type OpenedBlobStore, testBlobStores } from "../lib/blobstore/testing.ts";
import type { BlobStore } from "../lib/blobstore/types.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { openSqliteQueue } from "../lib/queue/sqlite.ts";
import type { Queue } from "../lib/queue/types.ts";
import type { Db } from "../meta/db/database.ts";
import { openTransferFixture, type TransferFixture } from "./testing.ts";
import { deleteMovedCopies, relay, runJob, type TransferDeps } from "./transfer.ts";

const s3 = testBlobStores().find((b) => b.backend === "s3");

describe.if(s3 !== undefined)("transfer logic", () => {
  const clock = { now: 1_000_000 };
  let f: TransferFixture;
  let db: Db;
  let meta: MetaClient;
  let dir: string;
  let local: BlobStore;
  let bucket: OpenedBlobStore;
  let queue: Queue;
  let deps: TransferDeps;

  beforeAll(async () => {
    f = await openTransferFixture(
      s3 as NonNullable<typeof s3>,
      async (dir) => ({
        queue: openSqliteQueue(join(dir, "queue.db"), "transfer", {
          visibilityMs: 60_000,
          maxAttempts: 3,
          backoffBaseMs: 1,
          backoffMaxMs: 1,
        }),
      }),
      { clock },
    );
    ({ db, meta, dir, local, bucket, queue, deps } = f);
  });
  afterAll(async () => {
    await f.close();
  });
  afterEach(async () => {
    // Every test ends with an empty queue.
    for (const m of await queue.receive("drain", 100, 0)) await queue.ack(m);
  });

  const upload = (size?: number) => f.upload(size);
  const blobOf = (sha256: string) => f.blobOf(sha256);
  const jobOf = (sha256: string) => f.jobOf(sha256);
  /** The next delivery of the job of `sha256` (others are acked away: each test looks at its own). */
  const next = async (sha256: string) => {
    await relay(deps);
    for (;;) {
      const [m] = await queue.receive("c", 1, 2000);
      if (!m) throw new Error("no message");
      if (m.key === sha256) return m;
      await queue.ack(m);
    }
  };
  const readBlob = async (sha256: string) => {
    const b = await blobOf(sha256);
    const stream = await storeForAll(local, bucket.store)(b?.backend ?? "").read(b?.location ?? "");
    return new Uint8Array(await new Response(stream).arrayBuffer());
  };
  const objects = async () => (await bucket.snapshot()).filter((k) => !k.startsWith("parts/"));

  test("a job moves the content, verified; the local copy goes after the grace period", async () => {
    const before = await objects();
    const { sha256, location, body } = await upload();
    expect((await jobOf(sha256))?.state).toBe("queued");
    expect(await readBlob(sha256)).toEqual(body);
    // A read opened before the move...
    const early = await local.read(location);
    expect(await runJob(deps, await next(sha256))).toBe("moved");
    const blob = await blobOf(sha256);
    expect(blob?.backend).toBe("s3");
    expect(await objects()).toEqual([...before, blob?.location as string].sort());
    expect(await jobOf(sha256)).toMatchObject({ state: "done", attempts: 1, cleanupLocation: location });
    // ...finishes, and new reads go to S3.
    expect(new Uint8Array(await new Response(early).arrayBuffer())).toEqual(body);
    expect(await readBlob(sha256)).toEqual(body);
    expect(await local.stat(location)).toEqual({ size: body.length });
    clock.now += 29_000;
    expect(await deleteMovedCopies(deps)).toBe(0);
    clock.now += 2_000;
    expect(await deleteMovedCopies(deps)).toBe(1);
    expect(await local.stat(location)).toBeUndefined();
    expect(await readBlob(sha256)).toEqual(body);
    expect(await deleteMovedCopies(deps)).toBe(0);
  });

  test("the same job delivered again changes nothing (one object, no new attempt)", async () => {
    const { sha256 } = await upload();
    const m = await next(sha256);
    expect(await runJob(deps, m)).toBe("moved");
    const after = await objects();
    await queue.publish(sha256, sha256);
    expect(await runJob(deps, await next(sha256))).toBe("skipped");
    expect(await objects()).toEqual(after);
    expect((await jobOf(sha256))?.state).toBe("done");
  });

  test("an attempt that died mid-copy is cleaned up by the next one: no partial or duplicate object", async () => {
    const before = await objects();
    const { sha256, body } = await upload(10 * 1024 * 1024);
    const first = await next(sha256);
    // Attempt 1 "dies" after recording its key and writing part of it (left as an unfinished upload),
    // and a finished orphan of an even earlier attempt exists too.
    const dead = bucket.store.newLocation?.() as string;
    await meta.beginTransferAttempt({ blobSha256: sha256, attempt: first.attempt, targetLocation: dead });
    let fail: (e: Error) => void = () => {};
    const stalled = new Promise<never>((_, reject) => {
      fail = reject;
    });
    async function* partial() {
      yield body.subarray(0, 8 * 1024 * 1024 + 1); // more than one part (8 MiB): a multipart upload
      await stalled;
    }
    const hung = bucket.store.stage(partial(), { location: dead }).catch(() => undefined);
    for (let i = 0; !(await bucket.snapshot()).includes(`(multipart upload) ${dead}`); i++) {
      if (i > 400) throw new Error("the interrupted multipart upload never started");
      await Bun.sleep(50);
    }
    // The message comes back (its consumer died) as attempt 2.
    expect(await runJob(deps, { ...first, attempt: 2 })).toBe("moved");
    fail(new Error("killed"));
    await hung;
    const blob = await blobOf(sha256);
    expect(await objects()).toEqual([...before, blob?.location as string].sort());
    expect(await readBlob(sha256)).toEqual(body);
  });

  test("S3 failing: retried with backoff, then a dead letter; nothing left in the bucket", async () => {
    const before = await objects();
    const { sha256, location, body } = await upload();
    const broken: BlobStore = {
      ...bucket.store,
      stage: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:1");
      },
    };
    const failing = { ...deps, target: broken };
    expect(await runJob(failing, await next(sha256))).toBe("retry");
    expect(await jobOf(sha256)).toMatchObject({ state: "queued", attempts: 1 });
    expect((await jobOf(sha256))?.lastError).toContain("ECONNREFUSED");
    expect(await runJob(failing, await next(sha256))).toBe("retry");
    expect(await runJob(failing, await next(sha256))).toBe("dead");
    expect(await jobOf(sha256)).toMatchObject({ state: "failed", attempts: 3 });
    expect((await queue.deadLetters(10)).map((d) => d.key)).toContain(sha256);
    expect(await objects()).toEqual(before);
    expect((await blobOf(sha256))?.location).toBe(location);
    expect(await readBlob(sha256)).toEqual(body);
    // Retried once S3 is back: moves.
    await meta.retryTransferJob({ blobSha256: sha256 });
    for (const d of await queue.deadLetters(10)) if (d.key === sha256) await queue.retryDead(d.id);
    const m = await next(sha256);
    expect(m.attempt).toBe(1);
    expect(await runJob(deps, m)).toBe("moved");
    expect((await blobOf(sha256))?.backend).toBe("s3");
    // The relay does not publish a job that ran (the retry published it already or just now: harmless).
    for (const extra of await queue.receive("c", 10, 0)) expect(await runJob(deps, extra)).toBe("skipped");
  });

  test("local bytes that do not match their row never reach the bucket", async () => {
    const before = await objects();
    const { sha256, location } = await upload();
    writeFileSync(join(dir, "blobs", location), new Uint8Array(300_000)); // same size, other bytes
    expect(await runJob(deps, await next(sha256))).toBe("retry");
    expect((await jobOf(sha256))?.lastError).toMatch(/SHA-256/);
    expect(await objects()).toEqual(before);
    expect((await blobOf(sha256))?.backend).toBe("local");
    await db.updateTable("transfer_jobs").set({ state: "done" }).where("blob_sha256", "=", sha256).execute();
    for (const m of await queue.receive("drain", 10, 2000)) await queue.ack(m);
  });

  test("content deleted before its job runs: skipped, nothing copied", async () => {
    const before = await objects();
    const { sha256 } = await upload();
    await db.updateTable("blobs").set({ state: "deleting" }).where("sha256", "=", sha256).execute();
    expect(await runJob(deps, await next(sha256))).toBe("skipped");
    expect((await jobOf(sha256))?.state).toBe("done");
    expect(await objects()).toEqual(before);
  });
});
