// SHA-1 off the modern upload path: modern uploads record content without SHA-1 (local disk; S3 computes it
// while uploading), the backfill queue and the sweep fill it in, legacy uploads get it at once. On both
// databases and both blob stores.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { linkBySha1 } from "./instant.ts";
import { uploadModule } from "./service.ts";
import * as sessions from "./sessions.ts";
import { type Sha1Backfill, sha1Backfill } from "./sha1.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";
import { SMALL_UPLOAD_BYTES, storeUpload } from "./upload.ts";

const KiB = 1024;
const hex = (algo: "sha1" | "sha256", b: Uint8Array) => new Bun.CryptoHasher(algo).update(b).digest("hex");
const stream = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream();

for (const database of testDatabases()) {
  for (const backend of testBlobStores()) {
    describe(`SHA-1 backfill on ${database.dialect} + ${backend.backend}`, () => {
      // S3 computes SHA-1 while it uploads (cheaper than reading the object back): only local disk defers it.
      const deferred = backend.backend === "local";
      let f: UploadFixture;
      let alice: Identity;
      let backfill: Sha1Backfill;
      let scheduled: string[];
      const data = crypto.getRandomValues(new Uint8Array(300 * KiB + 7));
      const sha1 = hex("sha1", data);
      const sha256 = hex("sha256", data);

      beforeEach(async () => {
        f = await openUploadFixture(backend, undefined, database);
        alice = await f.user("alice");
        backfill = sha1Backfill({ meta: f.deps.meta, storeFor: f.deps.storeFor });
        scheduled = [];
        // Recorded, not run: the test runs the backfill when it has looked at the row without SHA-1.
        f.deps.backfillSha1 = (h) => scheduled.push(h);
      });
      afterEach(async () => {
        await backfill.idle();
        await f.close();
      });

      const blobSha1 = async (h = sha256) =>
        (await f.db.selectFrom("blobs").select("sha1").where("sha256", "=", h).executeTakeFirstOrThrow())
          .sha1;
      const fastUpload = () =>
        linkBySha1(f.deps, alice, { sha1, size: BigInt(data.length), name: "fast.bin", parentId: "" });

      test("a modern upload's content has no SHA-1 at first; the backfill records the right one", async () => {
        const file = await storeUpload(f.deps, alice, { name: "a.bin", parentId: "" }, stream(data));
        expect(file.blobSha256).toBe(sha256);
        if (deferred) {
          expect(await blobSha1()).toBe("");
          expect(scheduled).toEqual([sha256]);
          // Legacy lookups by SHA-1 miss until then (the client uploads instead).
          expect(await codeOf(fastUpload())).toBe(Code.NotFound);
          for (const h of scheduled) backfill.schedule(h);
          await backfill.idle();
        } else expect(scheduled).toEqual([]);
        expect(await blobSha1()).toBe(sha1);
        expect((await fastUpload()).sha1).toBe(sha1);
        expect((await f.deps.meta.getFile({ ownerId: alice.userId, id: file.id })).sha1).toBe(sha1);
      });

      test("a small upload of announced size has its SHA-1 at once, with no backfill scheduled", async () => {
        const small = crypto.getRandomValues(new Uint8Array(SMALL_UPLOAD_BYTES / 32));
        await storeUpload(
          f.deps,
          alice,
          { name: "s.bin", parentId: "", expectedSize: small.length },
          stream(small),
        );
        expect(await blobSha1(hex("sha256", small))).toBe(hex("sha1", small));
        expect(scheduled).toEqual([]);
      });

      test("a legacy upload (sha1) has its SHA-1 at once; it also fills in content stored without", async () => {
        const other = crypto.getRandomValues(new Uint8Array(10 * KiB));
        await storeUpload(f.deps, alice, { name: "o.bin", parentId: "", sha1: true }, stream(other));
        expect(await blobSha1(hex("sha256", other))).toBe(hex("sha1", other));

        await storeUpload(f.deps, alice, { name: "a.bin", parentId: "" }, stream(data));
        expect(await blobSha1()).toBe(deferred ? "" : sha1);
        await storeUpload(f.deps, alice, { name: "again.bin", parentId: "", sha1: true }, stream(data));
        expect(await blobSha1()).toBe(sha1);
        expect((await fastUpload()).sha1).toBe(sha1);
        // The queued backfill then finds nothing to do.
        for (const h of scheduled) backfill.schedule(h);
        await backfill.idle();
        expect(await blobSha1()).toBe(sha1);
      });

      test("the form route computes the SHA-1 on the request only with sha1=now (the legacy /file/upload)", async () => {
        const module = uploadModule(f.deps, { verify: async () => alice }, (err) => {
          throw err;
        });
        const post = async (bytes: Uint8Array, query: string) => {
          const form = new FormData();
          form.set("file", new File([bytes as Uint8Array<ArrayBuffer>], "f.bin"));
          const req = new Request(
            `http://upload.internal/upload/v1/form?token=t&on_conflict=rename${query}`,
            {
              method: "POST",
              body: form,
            },
          );
          expect((await module.http?.(req, "127.0.0.1"))?.status).toBe(201);
        };
        const other = crypto.getRandomValues(new Uint8Array(20 * KiB));
        await post(other, "&sha1=now");
        await post(data, "");
        expect(await blobSha1(hex("sha256", other))).toBe(hex("sha1", other));
        expect(await blobSha1()).toBe(deferred ? "" : sha1);
        expect(scheduled).toEqual(deferred ? [sha256] : []);
      });

      test("multipart: a modern session defers the SHA-1, a session that announced one checks it at once", async () => {
        const parts = async (s: { id: string; partCount: number; partSize: bigint }) => {
          for (let n = 1; n <= s.partCount; n++) {
            const at = (n - 1) * Number(s.partSize);
            await sessions.putPart(
              f.deps,
              alice,
              s.id,
              n,
              stream(data.subarray(at, at + Number(s.partSize))),
            );
          }
        };
        const modern = await sessions.createSession(f.deps, alice, {
          name: "m.bin",
          parentId: "",
          size: BigInt(data.length),
        });
        await parts(modern);
        expect((await sessions.completeSession(f.deps, alice, modern.id)).sha1).toBe(deferred ? "" : sha1);
        expect(await blobSha1()).toBe(deferred ? "" : sha1);

        const other = crypto.getRandomValues(new Uint8Array(data.length));
        const legacy = await sessions.createSession(f.deps, alice, {
          name: "l.bin",
          parentId: "",
          size: BigInt(data.length),
          sha1: hex("sha1", other),
        });
        for (let n = 1; n <= legacy.partCount; n++) {
          const at = (n - 1) * Number(legacy.partSize);
          await sessions.putPart(
            f.deps,
            alice,
            legacy.id,
            n,
            stream(other.subarray(at, at + Number(legacy.partSize))),
          );
        }
        expect((await sessions.completeSession(f.deps, alice, legacy.id)).sha1).toBe(hex("sha1", other));
        expect(scheduled).toEqual(deferred ? [sha256] : []);
      });

      test("the sweep fills in blobs the queue missed (a crash after the upload), on any backend", async () => {
        const more = crypto.getRandomValues(new Uint8Array(5 * KiB));
        const empty = new Uint8Array(0);
        for (const [name, bytes] of [
          ["a.bin", data],
          ["b.bin", more],
          ["empty", empty],
        ] as const)
          await storeUpload(f.deps, alice, { name, parentId: "" }, stream(bytes));
        // As if the process died before its queue ran (and, for S3, as if the content came from local
        // disk before its SHA-1 was known): nothing recorded.
        await f.db.updateTable("blobs").set({ sha1: "" }).execute();
        expect(await backfill.sweep()).toBe(3);
        for (const bytes of [data, more, empty])
          expect(await blobSha1(hex("sha256", bytes))).toBe(hex("sha1", bytes));
        expect(await backfill.sweep()).toBe(0);
      });

      test("content that vanished is left for later and does not stop the sweep", async () => {
        const more = crypto.getRandomValues(new Uint8Array(5 * KiB));
        await storeUpload(f.deps, alice, { name: "a.bin", parentId: "" }, stream(data));
        await storeUpload(f.deps, alice, { name: "b.bin", parentId: "" }, stream(more));
        await f.db.updateTable("blobs").set({ sha1: "" }).execute();
        const gone = await f.db
          .selectFrom("blobs")
          .select("location")
          .where("sha256", "=", sha256)
          .executeTakeFirstOrThrow();
        await f.opened.store.delete(gone.location);
        expect(await backfill.sweep()).toBe(1);
        expect(await blobSha1(hex("sha256", more))).toBe(hex("sha1", more));
        expect(await blobSha1()).toBe("");
        // The queue logs and moves on too.
        backfill.schedule(sha256);
        backfill.schedule(hex("sha256", more));
        await backfill.idle();
        expect(await blobSha1()).toBe("");
      });
    });
  }
}
