// The consistency checker's stuck work on both blob backends and both databases: an upload session past its
// expiry still holding its part and its reservation, a transfer job stuck (on S3: left half done, its copy
// written and never switched to; on local disk, where no S3 target exists: dead), content unreferenced
// past the grace period and never collected. A dry run reports each and changes nothing; a repair cleans
// each up (parts and reservation released, the job queued afresh and its copy deleted, the bytes
// collected); the second run is clean. Work whose deadline passed within the grace period is not judged.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import * as sessions from "../upload/sessions.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { type FsckDeps, runFsck } from "./fsck.ts";
import { isClean } from "./fsck-report.ts";
import { fsckDepsFor } from "./fsck-testing.ts";

const body = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();
const GRACE = 7_200_000; // longer than TTL: an expiry just passed is not stuck yet
const TTL = 3_600_000; // the fixture's session lifetime
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

for (const backend of testBlobStores()) {
  for (const database of testDatabases()) {
    describe(`fsck stuck work on ${backend.backend} with ${database.dialect}`, () => {
      const clock = { now: 1_000_000 };
      let f: UploadFixture;
      let alice: Identity;
      let deps: FsckDeps;

      beforeEach(async () => {
        clock.now = 1_000_000;
        f = await openUploadFixture(backend, clock, database);
        alice = await f.user("alice");
        deps = fsckDepsFor(f, backend.backend, GRACE);
      }, 60_000);
      afterEach(() => f.close());

      const reserved = async () =>
        Number(
          (
            await f.db
              .selectFrom("users")
              .select("reserved_bytes")
              .where("id", "=", alice.userId)
              .executeTakeFirstOrThrow()
          ).reserved_bytes,
        );

      test("sessions, transfer jobs and deletions stuck past the grace period: reported, cleaned by a repair, then clean", async () => {
        // A session with one part stored, never completed.
        const data = random(200_000);
        const s = await sessions.createSession(f.deps, alice, {
          name: "big.bin",
          parentId: "",
          size: 200_000n,
        });
        await sessions.putPart(f.deps, alice, s.id, 1, body(data.slice(0, Number(s.partSize))));
        // Content whose last file was purged.
        const gone = await storeUpload(f.deps, alice, { name: "gone.bin", parentId: "" }, body(random(700)));
        await f.deps.meta.purgeFile({ ownerId: alice.userId, fileId: gone.id });
        const goneBlob = await f.db
          .selectFrom("blobs")
          .select(["sha256", "location"])
          .where("refcount", "=", 0)
          .executeTakeFirstOrThrow();
        // A transfer job: on S3, copied to its target and never switched; on local disk, dead.
        const kept = await storeUpload(f.deps, alice, { name: "kept.bin", parentId: "" }, body(random(900)));
        const keptSha = kept.blobSha256;
        const copy =
          backend.backend === "s3" ? await (await f.opened.store.stage(body(random(900)))).commit() : null;
        await f.db
          .insertInto("transfer_jobs")
          .values({
            blob_sha256: keptSha,
            state: copy ? "running" : "failed",
            attempts: 1,
            last_error: copy ? null : "s3 unreachable",
            target_location: copy,
            published_at: clock.now,
            cleanup_location: null,
            cleanup_after: null,
            created_at: clock.now,
            updated_at: clock.now,
            traceparent: null,
          })
          .execute();
        expect(await reserved()).toBe(200_000);

        // Within the grace period nothing is stuck yet (the session expired only just).
        clock.now += TTL + 1;
        const early = await runFsck(deps);
        expect([early.stuckSessions.count, early.pendingDeletions.count]).toEqual([0, 0]);
        // A dead job is stuck whatever its age.
        expect(early.stuckTransfers.count).toBe(copy ? 0 : 1);

        clock.now += GRACE;
        const before = await f.opened.snapshot();
        const dry = await runFsck(deps);
        expect(dry.stuckSessions).toMatchObject({ count: 1, bytes: 200_000 });
        expect(dry.stuckSessions.items.map((x) => [x.id, x.state, x.cleaned])).toEqual([
          [s.id, "open", false],
        ]);
        expect(dry.stuckTransfers.items.map((t) => [t.sha256, t.state, t.targetLocation ?? ""])).toEqual([
          [keptSha, copy ? "running" : "failed", copy ?? ""],
        ]);
        expect(dry.pendingDeletions).toMatchObject({ count: 1, bytes: 700 });
        expect(dry.pendingDeletions.items.map((d) => [d.kind, d.sha256])).toEqual([
          ["blob", goneBlob.sha256],
        ]);
        expect([dry.orphans.count, dry.usageDrifts.count, isClean(dry)]).toEqual([0, 0, false]);
        // A dry run changes nothing.
        expect(await f.opened.snapshot()).toEqual(before);
        expect(await reserved()).toBe(200_000);

        const repaired = await runFsck(deps, { repair: true });
        expect([repaired.stuckCleaned, repaired.stuckCleanFailures]).toEqual([3, 0]);
        expect(repaired.stuckSessions.items.map((x) => x.cleaned)).toEqual([true]);
        expect(repaired.stuckTransfers.items.map((x) => x.cleaned)).toEqual([true]);
        expect(repaired.pendingDeletions.items.map((x) => x.cleaned)).toEqual([true]);
        // The session's part and reservation are gone, the job waits for the relay with no target, the
        // abandoned copy and the unreferenced bytes are deleted.
        expect(await reserved()).toBe(0);
        expect(await f.db.selectFrom("upload_sessions").selectAll().execute()).toEqual([]);
        expect(await f.opened.store.listParts(s.id)).toEqual([]);
        const job = await f.db
          .selectFrom("transfer_jobs")
          .selectAll()
          .where("blob_sha256", "=", keptSha)
          .executeTakeFirstOrThrow();
        expect([job.state, Number(job.attempts), job.published_at, job.target_location]).toEqual([
          "queued",
          0,
          null,
          null,
        ]);
        if (copy) expect(await f.opened.store.stat(copy)).toBeUndefined();
        expect(await f.opened.store.stat(goneBlob.location)).toBeUndefined();
        expect(await f.db.selectFrom("blobs").select("sha256").where("refcount", "=", 0).execute()).toEqual(
          [],
        );
        // Kept content is untouched.
        expect((await f.deps.meta.getFile({ ownerId: alice.userId, id: kept.id })).file?.name).toBe(
          "kept.bin",
        );

        const again = await runFsck(deps, { repair: true });
        expect(isClean(again)).toBe(true);
      }, 120_000);
    });
  }
}
