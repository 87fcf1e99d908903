// The streamed single upload against real blob stores (local disk, and Ceph RGW when configured) and
// meta on SQLite.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { crc32 } from "node:zlib";
import { Code } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { type OpenedBlobStore, testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import type { Db } from "../meta/db/database.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";
import { storeUpload, type UploadDeps } from "./upload.ts";

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = x = (x * 1103515245 + 12345) & 0xff;
  return b;
}
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const stream = (b: Uint8Array, chunk = 64 * 1024) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < b.length; i += chunk) c.enqueue(b.subarray(i, i + chunk));
      c.close();
    },
  });

const code = codeOf;

for (const backend of testBlobStores()) {
  describe(`storeUpload on ${backend.backend}`, () => {
    let f: UploadFixture;
    let db: Db;
    let opened: OpenedBlobStore;
    let deps: UploadDeps;
    let alice: Identity;

    beforeEach(async () => {
      f = await openUploadFixture(backend);
      ({ db, opened, deps } = f);
      alice = await f.user("alice");
    });
    afterEach(() => f.close());

    const stored = () => f.stored();
    const fileRows = () => db.selectFrom("files").selectAll().execute();

    test("stores the bytes, names them, and the content reads back identical", async () => {
      const data = bytes(3 * 1024 * 1024 + 17);
      const file = await storeUpload(deps, alice, { name: "中文文件名.txt", parentId: "" }, stream(data));
      expect([file.name, file.size, file.blobSha256]).toEqual([
        "中文文件名.txt",
        BigInt(data.length),
        sha256(data),
      ]);
      const blob = await db.selectFrom("blobs").selectAll().executeTakeFirstOrThrow();
      const back = new Uint8Array(await new Response(await opened.store.read(blob.location)).arrayBuffer());
      expect(sha256(back)).toBe(sha256(data));
      expect(await stored()).toEqual([blob.location]);
      // Its CRC-32 too, summed as it was stored: a folder ZIP of it sends the bytes without summing them.
      expect(Number(blob.crc32)).toBe(crc32(data));
    });

    test("the same content twice is stored once with two names", async () => {
      const data = bytes(100_000, 7);
      await storeUpload(deps, alice, { name: "one", parentId: "" }, stream(data));
      await storeUpload(deps, alice, { name: "two", parentId: "" }, stream(data));
      expect((await fileRows()).map((f) => f.name).sort()).toEqual(["one", "two"]);
      expect(await stored()).toHaveLength(1);
      expect((await db.selectFrom("blobs").select("refcount").executeTakeFirstOrThrow()).refcount).toBe(2);
    });

    test("a connection that breaks mid-way leaves no file row and no stored bytes", async () => {
      const broken = new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(bytes(256 * 1024));
          if (Math.random() >= 0) c.error(new Error("connection reset"));
        },
      });
      expect(await code(storeUpload(deps, alice, { name: "broken.bin", parentId: "" }, broken))).not.toBe(
        "ok",
      );
      expect(await fileRows()).toHaveLength(0);
      expect(await stored()).toEqual([]);
    });

    test("too large: ResourceExhausted, nothing left", async () => {
      expect(
        await code(storeUpload(deps, alice, { name: "big", parentId: "" }, stream(bytes(11 * 1024 * 1024)))),
      ).toBe(Code.ResourceExhausted);
      expect([await fileRows(), await stored()]).toEqual([[], []]);
    });

    test("announced size or SHA-256 that do not match: InvalidArgument, nothing left", async () => {
      const data = bytes(5000);
      expect(
        await code(storeUpload(deps, alice, { name: "a", parentId: "", expectedSize: 4999 }, stream(data))),
      ).toBe(Code.InvalidArgument);
      expect(
        await code(storeUpload(deps, alice, { name: "a", parentId: "", expectedSize: 5001 }, stream(data))),
      ).toBe(Code.InvalidArgument);
      expect(
        await code(
          storeUpload(deps, alice, { name: "a", parentId: "", expectedSha256: "0".repeat(64) }, stream(data)),
        ),
      ).toBe(Code.InvalidArgument);
      expect([await fileRows(), await stored()]).toEqual([[], []]);
      const ok = await storeUpload(
        deps,
        alice,
        { name: "a", parentId: "", expectedSize: 5000, expectedSha256: sha256(data) },
        stream(data),
      );
      expect(ok.blobSha256).toBe(sha256(data));
    });

    test.each(["", "..", "../etc/passwd", "a/b", "nul\u0000", "x".repeat(256)])(
      "bad name %p: InvalidArgument before a byte is stored",
      async (name) => {
        let pulled = false;
        const body = new ReadableStream<Uint8Array>(
          {
            pull(c) {
              pulled = true;
              c.enqueue(bytes(10));
              c.close();
            },
          },
          { highWaterMark: 0 }, // pull only when read
        );
        expect(await code(storeUpload(deps, alice, { name, parentId: "" }, body))).toBe(Code.InvalidArgument);
        expect(pulled).toBe(false);
      },
    );

    test("bad folder ids are refused", async () => {
      for (const parentId of ["../..", "1; DROP TABLE files", "x".repeat(36)]) {
        expect(await code(storeUpload(deps, alice, { name: "a", parentId }, stream(bytes(1))))).toBe(
          Code.InvalidArgument,
        );
      }
    });
  });
}
