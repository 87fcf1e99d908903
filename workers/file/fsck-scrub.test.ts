// The scrub on both blob backends and both databases: a byte flipped in stored content behind the server's
// back (same size: only re-hashing finds it) is reported with the file it breaks; a repair with no second
// copy cannot fix it (still reported); once a transfer's copy exists (its S3 target, or the local copy a
// move leaves) the repair restores the content from it and the next scrub is clean. The pace: the scrub
// waits so that the bytes it read stay within the given rate.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { type FsckDeps, runFsck } from "./fsck.ts";
import { hashStored } from "./fsck-hash.ts";
import type { FsckReport } from "./fsck-report.ts";
import { pauseMs } from "./fsck-scrub.ts";
import { fsckDepsFor } from "./fsck-testing.ts";

const body = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();
const GRACE = 3_600_000;
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const hex = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const scrubbing = { scrub: { bytesPerHour: 0 } };

const corrupt = (r: FsckReport) =>
  r.corrupt.items.map((c) => [c.foundSha256, c.files.map((f) => `${f.username}/${f.name}`), c.repaired]);

test("pauseMs keeps the bytes read within the rate", () => {
  expect(pauseMs(1000, 0, 0)).toBe(0); // unbounded
  expect(pauseMs(3600, 0, 3600)).toBe(3_600_000); // an hour's worth read at once: wait an hour
  expect(pauseMs(1800, 1_000_000, 3600)).toBe(800_000);
  expect(pauseMs(1800, 2_000_000, 3600)).toBe(0); // behind the pace already
});

for (const backend of testBlobStores()) {
  for (const database of testDatabases()) {
    describe(`fsck scrub on ${backend.backend} with ${database.dialect}`, () => {
      const clock = { now: 1_000_000 };
      let f: UploadFixture;
      let alice: Identity;
      let deps: FsckDeps;

      beforeEach(async () => {
        f = await openUploadFixture(backend, clock, database);
        alice = await f.user("alice");
        deps = { ...fsckDepsFor(f, backend.backend, GRACE), batch: 2 };
      }, 60_000);
      afterEach(() => f.close());

      test("a flipped byte is found with its file; repaired from a transfer's copy; the next scrub is clean", async () => {
        const data = random(5000);
        const rotten = await storeUpload(f.deps, alice, { name: "rot.bin", parentId: "" }, body(data));
        await storeUpload(f.deps, alice, { name: "fine.bin", parentId: "" }, body(random(3000)));
        const sha = rotten.blobSha256;
        const blob = async () =>
          f.db.selectFrom("blobs").selectAll().where("sha256", "=", sha).executeTakeFirstOrThrow();
        const { location } = await blob();
        expect(isCleanScrub(await runFsck(deps, scrubbing))).toBe(true);

        const flipped = data.slice();
        flipped[1234] = (flipped[1234] as number) ^ 0x10;
        if (!f.opened.overwrite) throw new Error("the test store cannot overwrite");
        await f.opened.overwrite(location, flipped);
        const dry = await runFsck(deps, scrubbing);
        expect([dry.scrubbed, dry.scrubbedBlobs, dry.scrubbedBytes]).toEqual([true, 2, 8000]);
        expect([dry.missing.count, dry.wrongSize.count]).toEqual([0, 0]); // same size: only the hash tells
        expect(dry.corrupt).toMatchObject({ count: 1, bytes: 5000 });
        expect(corrupt(dry)).toEqual([[hex(flipped), ["alice/rot.bin"], false]]);
        // Without a scrub it goes unseen.
        expect((await runFsck(deps)).corrupt.count).toBe(0);

        // No second copy: a repair cannot fix it.
        const unfixed = await runFsck(deps, { ...scrubbing, repair: true });
        expect([unfixed.corrupt.count, unfixed.corruptRepaired]).toEqual([1, 0]);

        // A transfer's copy of the good bytes: on S3 its target (a transfer in progress), on local disk the
        // copy a move leaves for its grace period.
        const good = await (await f.opened.store.stage(body(data))).commit();
        const s3 = backend.backend === "s3";
        await f.db
          .insertInto("transfer_jobs")
          .values({
            blob_sha256: sha,
            state: s3 ? "running" : "done",
            attempts: 1,
            last_error: null,
            target_location: s3 ? good : null,
            published_at: clock.now,
            cleanup_location: s3 ? null : good,
            cleanup_after: s3 ? null : clock.now + 86_400_000,
            created_at: clock.now,
            updated_at: clock.now,
            traceparent: null,
          })
          .execute();
        const repaired = await runFsck(deps, { ...scrubbing, repair: true });
        expect(corrupt(repaired)).toEqual([[hex(flipped), ["alice/rot.bin"], true]]);
        expect(repaired.corrupt.items[0]?.repairedFrom).toBe(`${backend.backend}:${good}`);
        expect(repaired.corruptRepaired).toBe(1);
        // The row names new bytes that hash right; the rotten ones are gone; the copy is left to its job.
        const now = await blob();
        expect(now.location).not.toBe(location);
        expect(await hashStored(deps.storeFor, now.backend, now.location)).toEqual({
          sha256: sha,
          size: 5000,
        });
        expect(await f.opened.store.stat(location)).toBeUndefined();
        expect(await f.opened.store.stat(good)).toEqual({ size: 5000 });

        const again = await runFsck(deps, scrubbing);
        expect(isCleanScrub(again)).toBe(true);
        expect(again.scrubbedBlobs).toBe(2);
      }, 120_000);

      test("the scrub keeps to its rate: it waits until the bytes read are due", async () => {
        await storeUpload(f.deps, alice, { name: "a.bin", parentId: "" }, body(random(3000)));
        await storeUpload(f.deps, alice, { name: "b.bin", parentId: "" }, body(random(600)));
        let t = 0;
        const waits: number[] = [];
        const r = await runFsck(
          {
            ...deps,
            now: () => t,
            sleep: async (ms) => {
              waits.push(ms);
              t += ms;
            },
          },
          { scrub: { bytesPerHour: 36_000 } },
        );
        expect(r.scrubbedBytes).toBe(3600);
        // 3600 bytes at 36 000 an hour: six minutes, waited after each blob as its bytes came due.
        expect(waits).toHaveLength(2);
        expect(t).toBe(360_000);
      }, 120_000);
    });
  }
}

const isCleanScrub = (r: FsckReport) => r.scrubbed && r.corrupt.count === 0 && r.missing.count === 0;
