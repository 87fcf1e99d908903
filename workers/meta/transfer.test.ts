import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as transfer from "./transfer.ts";
import * as store from "./users.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "b");
const blob = (sha256: string, backend = "local"): content.NewBlob => ({
  sha256,
  sha1: sha256.slice(0, 40),
  size: 10,
  backend,
  location: `blobs/${sha256}`,
});

for (const target of testDatabases()) {
  describe(`transfer jobs on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let alice: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      alice = (await store.createUser(db, "alice", "x", 0)).id;
    });
    afterAll(() => drop());
    // One active entry per name in a folder (issue 16): a name of its own per file.
    let named = 0;
    const file = (name = "a") => ({ ownerId: alice, parentId: "", name: `${name}${n}-${++named}` });
    /** New local content with a transfer job (the transfer policy's upload). */
    const uploaded = async (now = 1) => {
      const h = sha();
      await content.addFileWithContent(db, file(), blob(h), now, { transfer: true });
      return h;
    };

    test("an upload under the transfer policy records its job in the same transaction", async () => {
      const h = await uploaded(5);
      const job = await transfer.getJob(db, h);
      expect(job).toMatchObject({ state: "queued", attempts: 0, published_at: null, created_at: 5 });
      // Without the policy, or for content already on S3, no job.
      const plain = sha();
      await content.addFileWithContent(db, file(), blob(plain), 1);
      const remote = sha();
      await content.addFileWithContent(db, file(), blob(remote, "s3"), 1, { transfer: true });
      expect(await transfer.getJob(db, plain)).toBeUndefined();
      expect(await transfer.getJob(db, remote)).toBeUndefined();
      // A failed file insert rolls the job back with the blob.
      const broken = sha();
      await expect(
        content.addFileWithContent(db, { ...file(), ownerId: "no-such-user" }, blob(broken), 1, {
          transfer: true,
        }),
      ).rejects.toThrow();
      expect(await transfer.getJob(db, broken)).toBeUndefined();
      expect(await content.findBlob(db, broken)).toBeUndefined();
    });

    test("the outbox: unpublished jobs until marked; stale live ones again; finished ones never", async () => {
      const h = await uploaded(100);
      const toPublish = async (now: number) =>
        (await transfer.jobsToPublish(db, now, 1000, 1000)).map((j) => j.blob_sha256);
      expect(await toPublish(100)).toContain(h);
      await transfer.markPublished(db, [h], 100);
      expect(await toPublish(500)).not.toContain(h);
      expect(await toPublish(2000)).toContain(h); // no sign of life for 1 s: its message may be lost
      await transfer.beginAttempt(db, h, 1, "blobs/t1", 2000);
      expect(await toPublish(2500)).not.toContain(h);
      await transfer.touchAttempt(db, h, "blobs/t1", 2900);
      expect(await toPublish(3500)).not.toContain(h);
      await transfer.switchLocation(
        db,
        { sha256: h, from: `blobs/${h}`, toBackend: "s3", to: "blobs/t1", cleanupAfter: 9000 },
        3600,
      );
      expect(await toPublish(99_999)).not.toContain(h);
    });

    test("an attempt copies, switches the blob once, and leaves the local copy for later deletion", async () => {
      const h = await uploaded();
      const begin = await transfer.beginAttempt(db, h, 1, "blobs/k1", 10);
      expect(begin).toMatchObject({ action: "copy", previousTarget: null, blob: { location: `blobs/${h}` } });
      expect((await transfer.getJob(db, h))?.state).toBe("running");
      const move = { sha256: h, from: `blobs/${h}`, toBackend: "s3", to: "blobs/k1", cleanupAfter: 50 };
      expect(await transfer.switchLocation(db, move, 20)).toBe("switched");
      expect(await transfer.switchLocation(db, move, 21)).toBe("switched"); // idempotent
      expect(await content.findBlob(db, h)).toMatchObject({ backend: "s3", location: "blobs/k1" });
      expect(await transfer.getJob(db, h)).toMatchObject({ state: "done", cleanup_location: `blobs/${h}` });
      expect((await transfer.dueCleanups(db, 49, 100)).map((c) => c.blob_sha256)).not.toContain(h);
      expect(await transfer.dueCleanups(db, 50, 100)).toContainEqual({
        blob_sha256: h,
        cleanup_location: `blobs/${h}`,
      });
      await transfer.finishCleanup(db, h, `blobs/${h}`);
      expect((await transfer.dueCleanups(db, 99, 100)).map((c) => c.blob_sha256)).not.toContain(h);
      // A late duplicate of the message finds nothing to do.
      expect(await transfer.beginAttempt(db, h, 2, "blobs/k2", 60)).toMatchObject({ action: "skip" });
      expect((await transfer.getJob(db, h))?.state).toBe("done");
    });

    test("a later attempt fences an earlier one out and learns the key to clean up", async () => {
      const h = await uploaded();
      await transfer.beginAttempt(db, h, 1, "blobs/old", 10);
      const second = await transfer.beginAttempt(db, h, 2, "blobs/new", 20);
      expect(second).toMatchObject({ action: "copy", previousTarget: "blobs/old" });
      const move = { sha256: h, from: `blobs/${h}`, toBackend: "s3", cleanupAfter: 0 };
      expect(await transfer.switchLocation(db, { ...move, to: "blobs/old" }, 30)).toBe("superseded");
      expect(await transfer.switchLocation(db, { ...move, to: "blobs/new" }, 31)).toBe("switched");
      expect(await transfer.switchLocation(db, { ...move, to: "blobs/old" }, 32)).toBe("superseded");
      expect((await content.findBlob(db, h))?.location).toBe("blobs/new");
    });

    test("content deleted meanwhile: the switch answers gone and the blob row stays untouched", async () => {
      const h = await uploaded();
      await transfer.beginAttempt(db, h, 1, "blobs/g", 10);
      await db.updateTable("blobs").set({ state: "deleting" }).where("sha256", "=", h).execute();
      const move = { sha256: h, from: `blobs/${h}`, toBackend: "s3", to: "blobs/g", cleanupAfter: 0 };
      expect(await transfer.switchLocation(db, move, 20)).toBe("gone");
      expect(await content.findBlob(db, h)).toMatchObject({ backend: "local", state: "deleting" });
      expect(await transfer.beginAttempt(db, h, 2, "blobs/g2", 30)).toMatchObject({ action: "skip" });
    });

    test("failures: queued again, then failed; retried with attempts reset and published anew", async () => {
      const h = await uploaded();
      await transfer.markPublished(db, [h], 1);
      await transfer.beginAttempt(db, h, 1, "blobs/f1", 10);
      await transfer.failAttempt(db, { sha256: h, attempt: 1, error: "S3 down", dead: false }, 11);
      expect(await transfer.getJob(db, h)).toMatchObject({
        state: "queued",
        attempts: 1,
        last_error: "S3 down",
      });
      await transfer.beginAttempt(db, h, 2, "blobs/f2", 20);
      await transfer.failAttempt(db, { sha256: h, attempt: 2, error: "x".repeat(5000), dead: true }, 21);
      const dead = await transfer.getJob(db, h);
      expect([dead?.state, dead?.attempts, dead?.last_error?.length]).toEqual(["failed", 2, 1000]);
      expect((await transfer.failedJobs(db, "", 100)).map((j) => j.blob_sha256)).toContain(h);
      expect((await transfer.failedJobs(db, h, 100)).map((j) => j.blob_sha256)).not.toContain(h);
      expect(await transfer.retryFailed(db, h, 30)).toBe(true);
      expect(await transfer.retryFailed(db, h, 31)).toBe(false);
      expect(await transfer.getJob(db, h)).toMatchObject({
        state: "queued",
        attempts: 0,
        published_at: null,
      });
      const changed = await transfer.changedSince(db, 30, 1000);
      expect(changed.map((j) => j.blob_sha256)).toContain(h);
      expect(changed.every((j) => j.updated_at >= 30)).toBe(true);
      expect((await transfer.changedSince(db, 32, 1000)).map((j) => j.blob_sha256)).not.toContain(h);
    });

    test("migrate everything: every ready local blob gets a job, page by page; counts", async () => {
      const before = await transfer.countLocalBlobs(db);
      const hs = [sha(), sha(), sha()];
      for (const h of hs) await content.addFileWithContent(db, file(), blob(h), 1);
      expect(await transfer.countLocalBlobs(db)).toBe(before + 3);
      let after = "";
      let enqueued = 0;
      for (;;) {
        const page = await transfer.enqueueLocalBlobs(db, after, 2, 40);
        if (page.seen === 0) break;
        enqueued += page.enqueued;
        after = page.last;
      }
      expect(enqueued).toBeGreaterThanOrEqual(3);
      for (const h of hs) expect((await transfer.getJob(db, h))?.state).toBe("queued");
      // Again: live jobs are not duplicated.
      expect((await transfer.enqueueLocalBlobs(db, "", 1000, 41)).enqueued).toBe(0);
      const counts = await transfer.countJobs(db);
      expect(counts.queued).toBeGreaterThanOrEqual(3);
    });
  });
}
