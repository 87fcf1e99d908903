// The periodic consistency check on both blob backends and both databases: a dry run (an orphan it finds
// stays) whose findings land in the metrics; one replica at a time — a second file worker's tick while the
// lease is held does nothing, and after the interval the lease is free again.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { createLogger } from "../lib/log.ts";
import { fsckMetrics } from "../lib/metrics/fsck.ts";
import { createMetrics } from "../lib/metrics/registry.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import type { FsckDeps } from "./fsck.ts";
import { periodicFsck } from "./fsck-periodic.ts";
import { fsckDepsFor } from "./fsck-testing.ts";

const body = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();
const GRACE = 3_600_000;
const HOUR = 3_600_000;
const log = createLogger("test");

for (const backend of testBlobStores()) {
  for (const database of testDatabases()) {
    describe(`periodic fsck on ${backend.backend} with ${database.dialect}`, () => {
      const clock = { now: 1_000_000 };
      let f: UploadFixture;
      let deps: FsckDeps;
      let metrics: ReturnType<typeof createMetrics>;

      beforeEach(async () => {
        f = await openUploadFixture(backend, clock, database);
        metrics = createMetrics("file");
        deps = { ...fsckDepsFor(f, backend.backend, GRACE), metrics: fsckMetrics(metrics) };
      }, 60_000);
      afterEach(() => f.close());

      test("a dry run recorded in the metrics, by one replica at a time", async () => {
        const alice = await f.user("alice");
        await storeUpload(f.deps, alice, { name: "a.bin", parentId: "" }, body(new Uint8Array(100)));
        const orphan = await (await f.opened.store.stage(body(new Uint8Array(50).fill(7)))).commit();

        const first = await periodicFsck(deps, "replica-a", HOUR, log);
        expect([first?.repair, first?.orphans.count]).toEqual([false, 1]);
        expect(await f.opened.store.stat(orphan)).toEqual({ size: 50 }); // a dry run
        const text = await metrics.text();
        expect(text).toContain('filestore_fsck_last_periodic_run_clean{service="file"} 0');
        expect(text).toContain('filestore_fsck_findings{service="file",kind="orphans"} 1');
        expect(text).toContain('filestore_fsck_runs_total{service="file",mode="dry"} 1');

        // Another replica's tick within the interval: skipped; the same replica renews its lease.
        expect(await periodicFsck(deps, "replica-b", HOUR, log)).toBeUndefined();
        expect(await periodicFsck(deps, "replica-a", HOUR, log)).toBeDefined();
        // Once the interval has passed (meta's clock), the other replica takes its turn.
        clock.now += HOUR + 1;
        expect((await periodicFsck(deps, "replica-b", HOUR, log))?.orphans.count).toBe(1);
        expect(await periodicFsck(deps, "replica-a", HOUR, log)).toBeUndefined();
      }, 120_000);
    });
  }
}
