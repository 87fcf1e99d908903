// Garbage collection on both blob backends and both databases, with the races against uploads.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import type { BlobStore, StoreFor } from "../lib/blobstore/types.ts";
import type { Logger } from "../lib/log.ts";
import { gcMetrics } from "../lib/metrics/gc.ts";
import { createMetrics } from "../lib/metrics/registry.ts";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { offerContent, proveContent } from "../upload/instant.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import * as files from "./files.ts";
import { collectGarbage, runGcPass } from "./gc.ts";

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const body = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();
const GRACE = 60_000;

for (const backend of testBlobStores()) {
  for (const database of testDatabases()) {
    describe(`garbage collection on ${backend.backend} with ${database.dialect}`, () => {
      const clock = { now: 1_000_000 };
      let f: UploadFixture;
      let alice: Identity;
      let bob: Identity;
      let storeFor: StoreFor;
      const shared = crypto.getRandomValues(new Uint8Array(100_000));
      const own = crypto.getRandomValues(new Uint8Array(50_000));

      beforeEach(async () => {
        f = await openUploadFixture(backend, clock, database);
        alice = await f.user("alice");
        bob = await f.user("bob");
        storeFor = storeForAll(f.opened.store);
      });
      afterEach(() => f.close());

      const upload = (who: Identity, name: string, data: Uint8Array<ArrayBuffer>) =>
        storeUpload(f.deps, who, { name, parentId: "" }, body(data));
      const remove = async (who: Identity, id: string) => {
        await files.deleteFile({ meta: f.deps.meta }, who, id);
        await files.purgeFile({ meta: f.deps.meta }, who, id);
      };
      const gc = (over: Partial<Parameters<typeof collectGarbage>[0]> = {}) =>
        collectGarbage({ meta: f.deps.meta, storeFor, graceMs: GRACE, ...over });
      const bytesOf = async (sha: string) => {
        const { blob } = await f.deps.meta.getBlob({ sha256: sha });
        const stream = await f.opened.store.read(blob?.location ?? "");
        return new Uint8Array(await new Response(stream).arrayBuffer());
      };

      test("after delete + purge + GC the bytes are gone; content still referenced elsewhere stays readable", async () => {
        const a = await upload(alice, "a.bin", shared);
        await upload(bob, "b.bin", shared);
        const c = await upload(alice, "c.bin", own);
        expect(await f.stored()).toHaveLength(2);

        await remove(alice, c.id);
        expect(await gc()).toEqual({ deleted: 0, failed: 0 }); // within the grace period
        clock.now += GRACE;
        expect(await gc()).toEqual({ deleted: 1, failed: 0 });
        expect(await f.stored()).toHaveLength(1);
        expect(await codeOf(f.deps.meta.getBlob({ sha256: sha256(own) }))).toBe(Code.NotFound);

        // Alice's copy of the shared content goes; Bob's reference keeps the bytes.
        await remove(alice, a.id);
        clock.now += GRACE;
        expect(await gc()).toEqual({ deleted: 0, failed: 0 });
        expect(await f.stored()).toHaveLength(1);
        expect(await bytesOf(sha256(shared))).toEqual(shared);
      });

      test("metrics: each pass counted by task, the blobs and bytes freed", async () => {
        const metrics = createMetrics("file");
        const c = await upload(alice, "c.bin", own);
        await remove(alice, c.id);
        clock.now += GRACE;
        const pass = { meta: f.deps.meta, storeFor, graceMs: GRACE, metrics: gcMetrics(metrics) };
        expect(await runGcPass(pass)).toEqual({ deleted: 1, failed: 0 });
        const text = await metrics.text();
        for (const task of ["orphans", "trash", "versions", "blobs", "thumbnails"])
          expect(text).toContain(`filestore_gc_runs_total{service="file",task="${task}"} 1`);
        expect(text).not.toContain("filestore_gc_failures_total{");
        expect(text).toContain('filestore_gc_freed_blobs_total{service="file"} 1');
        expect(text).toContain(`filestore_gc_freed_bytes_total{service="file"} ${own.length}`);
      });

      test("race: content claimed by GC is never linked; an upload of it meanwhile ends readable", async () => {
        const a = await upload(alice, "a.bin", shared);
        // Bob asked to link it by proof of possession before it was deleted.
        const offer = await offerContent(f.deps, bob, {
          sha256: sha256(shared),
          size: BigInt(shared.length),
          name: "instant.bin",
          parentId: "",
        });
        expect(offer.challengeId).not.toBe("");
        await remove(alice, a.id);
        clock.now += GRACE;

        // The collector claims the blob, then stalls before deleting its bytes.
        let entered!: () => void;
        const inDelete = new Promise<void>((r) => {
          entered = r;
        });
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const store = f.opened.store;
        const stalled = new Proxy(store, {
          get: (t, p) =>
            p === "delete"
              ? async (location: string) => {
                  entered();
                  await gate;
                  return t.delete(location);
                }
              : Reflect.get(t, p),
        }) as BlobStore;
        const pass = gc({ storeFor: () => stalled });
        await inDelete;

        // Linking the claimed content fails (instant upload, and meta directly)...
        const proof = sha256(
          shared.subarray(Number(offer.rangeStart), Number(offer.rangeStart + offer.rangeLength)),
        );
        expect(
          await codeOf(proveContent(f.deps, bob, { challengeId: offer.challengeId, rangeSha256: proof })),
        ).toBe(Code.FailedPrecondition);
        expect(
          await codeOf(
            f.deps.meta.addFileForExistingBlob({
              file: { ownerId: bob.userId, parentId: "", name: "x.bin" },
              sha256: sha256(shared),
            }),
          ),
        ).toBe(Code.NotFound);
        // ...while a real upload of the same content succeeds at once, with its own copy.
        const fresh = await upload(bob, "fresh.bin", shared);
        expect(fresh.blobSha256).toBe(sha256(shared));

        release();
        expect(await pass).toEqual({ deleted: 1, failed: 0 });
        expect(await bytesOf(sha256(shared))).toEqual(shared);
        expect(await f.stored()).toHaveLength(1);
        const { blob } = await f.deps.meta.getBlob({ sha256: sha256(shared) });
        expect([blob?.state, blob?.refcount]).toEqual(["ready", 1]);
      });

      test("a pass first moves orphans to the trash, one log line each; once purged their content is collected", async () => {
        const dir = await files.createFolder({ meta: f.deps.meta }, alice, "", "doomed");
        const inside = await storeUpload(f.deps, alice, { name: "inside.bin", parentId: dir.id }, body(own));
        // The folder row vanishes under its content, as an old purge that stopped part-way down a deep
        // tree left it: the file stayed active, listed and downloadable, its content never collected.
        await f.db.deleteFrom("files").where("id", "=", dir.id).execute();
        const lines: [string, Record<string, unknown> | undefined][] = [];
        const none = () => undefined;
        const log: Logger = {
          debug: none,
          warn: none,
          error: none,
          info: (m, fields) => lines.push([m, fields]),
        };
        expect(await runGcPass({ meta: f.deps.meta, storeFor, graceMs: GRACE, log })).toEqual({
          deleted: 0,
          failed: 0,
        });
        expect(lines).toEqual([
          [
            "orphaned entries moved to the trash",
            {
              ownerId: alice.userId,
              id: inside.id,
              formerParentId: dir.id,
              trashEntryId: inside.id,
              count: 1,
            },
          ],
        ]);
        const all = await files.listFiles({ meta: f.deps.meta }, alice, {
          parentId: "",
          allFolders: true,
          pageSize: 0,
          pageToken: "",
          sort: 0,
          descending: false,
          sha1: "",
        });
        expect(all.files).toEqual([]);
        const trash = await files.listTrash({ meta: f.deps.meta }, alice, { pageSize: 0, pageToken: "" });
        expect(trash.files.map((x) => x.id)).toEqual([inside.id]);
        await files.purgeFile({ meta: f.deps.meta }, alice, inside.id);
        clock.now += GRACE;
        expect(await gc()).toEqual({ deleted: 1, failed: 0 });
        expect(await f.stored()).toHaveLength(0);
        expect(await codeOf(f.deps.meta.getBlob({ sha256: sha256(own) }))).toBe(Code.NotFound);
      });

      test("trash retention: a pass purges entries deleted longer ago than TRASH_RETENTION_DAYS, then frees their bytes", async () => {
        const DAY = 86_400_000;
        const old = await upload(alice, "old.bin", own);
        await files.deleteFile({ meta: f.deps.meta }, alice, old.id);
        clock.now += 20 * DAY;
        const recent = await upload(alice, "recent.bin", shared);
        await files.deleteFile({ meta: f.deps.meta }, alice, recent.id);
        const pass = () =>
          runGcPass({ meta: f.deps.meta, storeFor, graceMs: GRACE, trashRetentionMs: 30 * DAY });
        clock.now += 10 * DAY; // old: exactly 30 days
        expect(await pass()).toEqual({ deleted: 0, failed: 0 });
        clock.now += 1;
        expect(await pass()).toEqual({ deleted: 0, failed: 0 }); // purged now; its bytes wait for the grace
        const trash = await files.listTrash({ meta: f.deps.meta }, alice, { pageSize: 0, pageToken: "" });
        expect(trash.files.map((x) => x.id)).toEqual([recent.id]);
        clock.now += GRACE;
        expect(await pass()).toEqual({ deleted: 1, failed: 0 });
        expect(await f.stored()).toHaveLength(1);
        expect(await bytesOf(sha256(shared))).toEqual(shared);
        // No retention (0): kept however old.
        clock.now += 365 * DAY;
        await runGcPass({ meta: f.deps.meta, storeFor, graceMs: GRACE, trashRetentionMs: 0 });
        expect(
          (await files.listTrash({ meta: f.deps.meta }, alice, { pageSize: 0, pageToken: "" })).files,
        ).toHaveLength(1);
      });

      test("version retention: a pass drops exactly the versions older than VERSIONS_MAX_DAYS, then frees their bytes", async () => {
        const DAY = 86_400_000;
        const make = () => crypto.getRandomValues(new Uint8Array(20_000));
        const [a, b, c] = [make(), make(), make()];
        const replace = (data: Uint8Array<ArrayBuffer>) =>
          storeUpload(
            f.deps,
            alice,
            { name: "doc.bin", parentId: "", onConflict: ConflictPolicy.REPLACE },
            body(data),
          );
        const doc = await upload(alice, "doc.bin", a);
        clock.now += DAY;
        await replace(shared); // a becomes a version (archived now)
        clock.now += DAY;
        await replace(b); // shared becomes a version; bob holds it too
        await upload(bob, "bob.bin", shared);
        clock.now += 18 * DAY;
        await replace(c); // b becomes a version, 18 days younger
        expect(await f.stored()).toHaveLength(4);
        const pass = () =>
          runGcPass({ meta: f.deps.meta, storeFor, graceMs: GRACE, versionsMaxAgeMs: 30 * DAY });
        const versionsOf = async () =>
          (await f.deps.meta.listVersions({ ownerId: alice.userId, fileId: doc.id })).versions.map(
            (v) => v.blobSha256,
          );
        // a's version is 30 days old to the millisecond: kept (older than, not as old as).
        clock.now += 11 * DAY;
        expect(await pass()).toEqual({ deleted: 0, failed: 0 });
        expect(await versionsOf()).toEqual([b, shared, a].map(sha256));
        clock.now += DAY + 1; // a's and shared's versions are past 30 days, b's is 12 days old
        expect(await pass()).toEqual({ deleted: 0, failed: 0 }); // dropped; their bytes wait for the grace
        expect(await versionsOf()).toEqual([sha256(b)]);
        clock.now += GRACE;
        expect(await pass()).toEqual({ deleted: 1, failed: 0 });
        // a's bytes are gone; shared (bob's file), b (a version) and c (the file) stay readable.
        expect(await f.stored()).toHaveLength(3);
        expect(await codeOf(f.deps.meta.getBlob({ sha256: sha256(a) }))).toBe(Code.NotFound);
        expect(await bytesOf(sha256(shared))).toEqual(shared);
        expect(await bytesOf(sha256(b))).toEqual(b);
        expect(await bytesOf(sha256(c))).toEqual(c);
      });

      test("a failed delete keeps the claim; a later pass takes it up after the stale period", async () => {
        const c = await upload(alice, "c.bin", own);
        await remove(alice, c.id);
        clock.now += GRACE;
        const broken: StoreFor = () => {
          throw new Error("backend unavailable");
        };
        expect(await gc({ storeFor: broken })).toEqual({ deleted: 0, failed: 1 });
        expect(await gc()).toEqual({ deleted: 0, failed: 0 }); // claimed, not yet stale
        clock.now += 15 * 60_000;
        expect(await gc()).toEqual({ deleted: 1, failed: 0 });
        expect(await f.stored()).toHaveLength(0);
      });
    });
  }
}
