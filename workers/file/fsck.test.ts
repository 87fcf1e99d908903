// The consistency checker on both blob backends and both databases, with faults injected behind the
// server's back: a blob's bytes deleted, bytes left without a blob row, a reference count and a usage
// counter corrupted. A dry run finds each and changes nothing; a repair fixes what can be fixed (the
// missing bytes cannot be: still reported, with the file they break); a second run is clean otherwise.
// Objects younger than the grace period are never judged.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { fsckMetrics } from "../lib/metrics/fsck.ts";
import { createMetrics } from "../lib/metrics/registry.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { type FsckDeps, type FsckProgress, runFsck } from "./fsck.ts";
import type { FsckReport } from "./fsck-report.ts";
import { fsckDepsFor } from "./fsck-testing.ts";

const body = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();
const GRACE = 3_600_000;

/** What a report says, without the times and random locations. */
const summary = (r: FsckReport) => ({
  missing: [r.missing.count, r.missing.bytes],
  missingFiles: r.missing.items.map((m) => m.files.map((f) => `${f.username}/${f.name}`)),
  wrongSize: r.wrongSize.items.map((m) => [
    m.size,
    m.foundSize,
    m.files.map((f) => `${f.username}/${f.name}`),
  ]),
  orphans: [r.orphans.count, r.orphans.bytes],
  orphansDeleted: r.orphansDeleted,
  refcounts: r.refcountDrifts.items.map((d) => [d.stored, d.counted, d.repaired]),
  usage: r.usageDrifts.items.map((d) => [d.usedBefore, d.usedAfter, d.repaired]),
});

for (const backend of testBlobStores()) {
  for (const database of testDatabases()) {
    describe(`fsck on ${backend.backend} with ${database.dialect}`, () => {
      const clock = { now: 1_000_000 };
      let f: UploadFixture;
      let alice: Identity;
      let bob: Identity;
      let deps: FsckDeps;

      beforeEach(async () => {
        f = await openUploadFixture(backend, clock, database);
        alice = await f.user("alice");
        bob = await f.user("bob");
        deps = {
          ...fsckDepsFor(f, backend.backend, GRACE),
          batch: 2, // small pages: every walk crosses pages
        };
      }, 60_000);
      afterEach(() => f.close());

      const upload = (who: Identity, name: string, data: Uint8Array<ArrayBuffer>) =>
        storeUpload(f.deps, who, { name, parentId: "" }, body(data));
      const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

      test("finds each fault; a dry run changes nothing; repair fixes what can be; the second run is clean", async () => {
        await upload(alice, "lost.bin", random(1000));
        await upload(bob, "b.bin", random(2000));
        await upload(alice, "c.bin", random(3000));
        await upload(bob, "d.bin", random(4000));
        const clean = await runFsck(deps);
        expect(summary(clean)).toEqual({
          missing: [0, 0],
          missingFiles: [],
          wrongSize: [],
          orphans: [0, 0],
          orphansDeleted: 0,
          refcounts: [],
          usage: [],
        });
        expect([clean.blobsChecked, clean.objectsListed, clean.usersChecked]).toEqual([4, 4, 2]);

        // Faults: lost.bin's bytes deleted; bytes stored with no row (a crash before the row); b.bin's
        // reference count and Bob's usage counter corrupted; c.bin's row recording another size than the
        // bytes stored (a truncated or replaced object looks the same to the check).
        const sha = (name: string) =>
          f.db.selectFrom("files").select("blob_sha256").where("name", "=", name).executeTakeFirstOrThrow();
        const { blob } = await f.deps.meta.getBlob({ sha256: (await sha("lost.bin")).blob_sha256 ?? "" });
        await f.opened.store.delete(blob?.location ?? "");
        const orphan = await (await f.opened.store.stage(body(random(500)))).commit();
        const b = (await sha("b.bin")).blob_sha256 ?? "";
        await f.db.updateTable("blobs").set({ refcount: 3 }).where("sha256", "=", b).execute();
        await f.db.updateTable("users").set({ used_bytes: 99 }).where("id", "=", bob.userId).execute();
        const c = (await sha("c.bin")).blob_sha256 ?? "";
        await f.db.updateTable("blobs").set({ size: 3500 }).where("sha256", "=", c).execute();

        const progress: FsckProgress[] = [];
        const before = await f.opened.snapshot();
        const dry = await runFsck(deps, { onProgress: (p) => progress.push(p) });
        const found = {
          missing: [1, 1000],
          missingFiles: [["alice/lost.bin"]],
          wrongSize: [[3500, 3000, ["alice/c.bin"]]],
          orphans: [1, 500],
          orphansDeleted: 0,
          refcounts: [[3, 1, false]],
          usage: [[99, 6000, false]],
        };
        expect(summary(dry)).toEqual(found);
        expect(dry.orphans.items.map((o) => [o.location, o.deleted])).toEqual([[orphan, false]]);
        expect(progress.map((p) => p.phase)).toEqual([
          "blobs",
          "blobs",
          "blobs",
          "stuck",
          "objects",
          "objects",
          "usage",
          "usage",
          "done",
        ]);
        // Nothing changed: the same report again, the same bytes.
        expect(summary(await runFsck(deps))).toEqual(found);
        expect(await f.opened.snapshot()).toEqual(before);

        const repaired = await runFsck(deps, { repair: true });
        expect(summary(repaired)).toEqual({
          ...found,
          orphansDeleted: 1,
          refcounts: [[3, 1, true]],
          usage: [[99, 6000, true]],
        });
        expect(await f.opened.store.stat(orphan)).toBeUndefined();
        // Only what no repair can bring back is left: the lost bytes and the wrong-size ones, with the
        // files they break.
        expect(summary(await runFsck(deps, { repair: true }))).toEqual({
          ...found,
          orphans: [0, 0],
          refcounts: [],
          usage: [],
        });
      }, 120_000);

      test("objects younger than the grace period are not judged, nor deleted by a repair", async () => {
        await upload(alice, "a.bin", random(100));
        const young = await (await f.opened.store.stage(body(random(50)))).commit();
        const metrics = createMetrics("file");
        const r = await runFsck({ ...deps, now: Date.now, metrics: fsckMetrics(metrics) }, { repair: true });
        expect([r.orphans.count, r.youngObjectsSkipped, r.objectsListed]).toEqual([0, 2, 2]);
        const text = await metrics.text();
        expect(text).toContain('filestore_fsck_runs_total{service="file",mode="repair"} 1');
        expect(text).toContain('filestore_fsck_findings{service="file",kind="orphans"} 0');
        expect(await f.opened.store.stat(young)).toEqual({ size: 50 });
      }, 120_000);
    });
  }
}
