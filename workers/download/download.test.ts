// Downloads against real blob stores (local disk, and Ceph RGW when configured) and meta on SQLite:
// the range matrix, validators, names, ownership and signed links, through the data plane's handler.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { createDownloadUrl, revokeDownloadUrls } from "./download.ts";
import { type DownloadFixture, filenameOf, openDownloadFixture } from "./testing.ts";

function bytes(n: number, seed = 7): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = x = (x * 1103515245 + 12345) & 0xff;
  return b;
}
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const body = async (res: Response) => new Uint8Array(await res.arrayBuffer());

// Local disk twice: with ranges left to Bun.serve (all-in-one) and cut by the worker (node:http, the
// standalone worker); S3 streams either way.
const modes = testBlobStores().flatMap((backend) =>
  backend.backend === "local"
    ? [true, false].map((bunServeRanges) => ({ backend, bunServeRanges }))
    : [{ backend, bunServeRanges: false }],
);
for (const { backend, bunServeRanges } of modes) {
  describe(`downloads on ${backend.backend}${backend.backend === "local" ? (bunServeRanges ? ", ranges by Bun.serve" : ", ranges cut by the worker") : ""}`, () => {
    let f: DownloadFixture;
    let alice: { who: Identity; token: string };
    let bob: { who: Identity; token: string };
    const data = bytes(300_001);
    let file: { id: string; sha1: string };
    const auth = (u: { token: string }, extra: Record<string, string> = {}) => ({
      authorization: `Bearer ${u.token}`,
      ...extra,
    });
    const own = (extra: Record<string, string> = {}, method = "GET") =>
      f.get(`/download/v1/files/${file.id}`, auth(alice, extra), method);
    /**
     * The Content-Length a client gets. A streamed body (S3) loses the worker's Content-Length in Bun.serve,
     * which sends it chunked (oven-sh/bun#10507, open in Bun 1.4): there the worker's own answer is checked.
     */
    const lengthOf = async (res: Response, extra: Record<string, string> = {}) =>
      backend.backend === "local"
        ? res.headers.get("content-length")
        : (await f.direct(`/download/v1/files/${file.id}`, auth(alice, extra))).headers.get("content-length");

    beforeAll(async () => {
      f = await openDownloadFixture(backend, { bunServeRanges });
      alice = await f.user("alice");
      bob = await f.user("bob");
      file = await f.put(alice.who, "report 2024.pdf", data);
    });
    afterAll(() => f?.close());

    test("the whole file: 200, length, ETag, type, name, nosniff", async () => {
      const res = await own();
      expect(res.status).toBe(200);
      expect(sha256(await body(res))).toBe(sha256(data));
      expect(await lengthOf(res)).toBe(String(data.length));
      expect(res.headers.get("accept-ranges")).toBe("bytes");
      expect(res.headers.get("etag")).toBe(`"${sha256(data)}"`);
      expect(res.headers.get("content-type")).toBe("application/pdf");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(filenameOf(res.headers.get("content-disposition") ?? "")).toBe("report 2024.pdf");
    });

    test("the range matrix: each range exact, reassembled ranges equal the file", async () => {
      const size = data.length;
      const cases: [string, number, number][] = [
        ["bytes=0-0", 0, 0],
        [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
        ["bytes=1000-2999", 1000, 2999],
        ["bytes=-500", size - 500, size - 1],
        [`bytes=${size - 700}-`, size - 700, size - 1],
        [`bytes=${size - 10}-${size + 5000}`, size - 10, size - 1],
      ];
      for (const [range, start, end] of cases) {
        const res = await own({ range });
        expect([range, res.status]).toEqual([range, 206]);
        expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
        // Once: Bun.serve adds it to the ranges it cuts (a second copy would read "bytes, bytes").
        expect(res.headers.get("accept-ranges")).toBe("bytes");
        expect(await lengthOf(res, { range })).toBe(String(end - start + 1));
        expect(await body(res)).toEqual(data.subarray(start, end + 1));
      }
      // Consecutive ranges of uneven sizes, then an open one: together the file.
      const parts: Uint8Array[] = [];
      let at = 0;
      for (const len of [1, 65_535, 100_000, 77_777]) {
        parts.push(await body(await own({ range: `bytes=${at}-${at + len - 1}` })));
        at += len;
      }
      parts.push(await body(await own({ range: `bytes=${at}-` })));
      expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
    });

    test("past the end: 416 with the size", async () => {
      for (const range of [
        `bytes=${data.length}-`,
        `bytes=${data.length + 10}-${data.length + 20}`,
        "bytes=-0",
      ]) {
        const res = await own({ range });
        expect([range, res.status]).toEqual([range, 416]);
        expect(res.headers.get("content-range")).toBe(`bytes */${data.length}`);
      }
    });

    test("several ranges, another unit or a malformed header: the whole file", async () => {
      for (const range of ["bytes=0-1,5-6", "items=0-1", "bytes=9-3"]) {
        const res = await own({ range });
        expect([range, res.status]).toEqual([range, 200]);
        expect(sha256(await body(res))).toBe(sha256(data));
      }
    });

    test("If-None-Match → 304; If-Range with the ETag keeps the range, another tag sends all", async () => {
      const etag = `"${sha256(data)}"`;
      const cached = await own({ "if-none-match": etag });
      expect(cached.status).toBe(304);
      expect(cached.headers.get("etag")).toBe(etag);
      expect((await body(cached)).length).toBe(0);
      expect((await own({ "if-none-match": '"stale"' })).status).toBe(200);
      const resumed = await own({ range: "bytes=10-19", "if-range": etag });
      expect([resumed.status, (await body(resumed)).length]).toEqual([206, 10]);
      const stale = await own({ range: "bytes=10-19", "if-range": '"stale"' });
      expect(stale.status).toBe(200);
      expect(sha256(await body(stale))).toBe(sha256(data));
    });

    test("HEAD: the headers of a GET, no body", async () => {
      const res = await own({}, "HEAD");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-length")).toBe(String(data.length));
      expect(res.headers.get("etag")).toBe(`"${sha256(data)}"`);
      expect((await body(res)).length).toBe(0);
    });

    test("names with quotes, semicolons, 中文 and emoji survive into Content-Disposition", async () => {
      for (const name of ['say "hi".txt', "a;b; filename=evil.txt", "中文文件名.txt", "🎉 party 🚀.bin"]) {
        const { id } = await f.put(alice.who, name, bytes(10, name.length));
        const res = await f.get(`/download/v1/files/${id}`, auth(alice));
        expect(res.status).toBe(200);
        expect(filenameOf(res.headers.get("content-disposition") ?? "")).toBe(name);
      }
    });

    test("an empty file downloads (and has no ranges)", async () => {
      const { id } = await f.put(alice.who, "empty.txt", new Uint8Array(0));
      const res = await f.get(`/download/v1/files/${id}`, auth(alice));
      expect([res.status, (await body(res)).length]).toEqual([200, 0]);
      expect((await f.get(`/download/v1/files/${id}`, auth(alice, { range: "bytes=0-" }))).status).toBe(416);
    });

    test("by SHA-1 (legacy): the caller's file with that content", async () => {
      const res = await f.get(`/download/v1/by-sha1/${file.sha1}`, auth(alice, { range: "bytes=0-3" }));
      expect(res.status).toBe(206);
      expect(await body(res)).toEqual(data.subarray(0, 4));
      expect((await f.get(`/download/v1/by-sha1/${"0".repeat(40)}`, auth(alice))).status).toBe(404);
      expect((await f.get("/download/v1/by-sha1/nothex", auth(alice))).status).toBe(400);
    });

    test("by SHA-1 (legacy): a modern upload is found once its SHA-1 is backfilled", async () => {
      const bytes = crypto.getRandomValues(new Uint8Array(1000));
      const sha1 = new Bun.CryptoHasher("sha1").update(bytes).digest("hex");
      await storeUpload(
        f.upload.deps,
        alice.who,
        { name: "new.bin", parentId: "" },
        new Blob([bytes]).stream(),
      );
      const get = () => f.get(`/download/v1/by-sha1/${sha1}`, auth(alice));
      // S3 computes SHA-1 while uploading; local disk leaves it to the backfill.
      if (backend.backend === "local") expect((await get()).status).toBe(404);
      await f.upload.sha1Backfill.sweep();
      const res = await get();
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual(bytes);
    });

    test("another user cannot download or link the file, by id or by hash: not found", async () => {
      const byId = await f.get(`/download/v1/files/${file.id}`, auth(bob));
      expect(byId.status).toBe(404);
      expect(await byId.json()).toEqual({ code: "not_found", message: "no such file" });
      expect((await f.get(`/download/v1/by-sha1/${file.sha1}`, auth(bob))).status).toBe(404);
      expect(
        await codeOf(createDownloadUrl(f.deps, bob.who, { fileId: file.id, sha1: "", ttlSeconds: 0 })),
      ).toBe(Code.NotFound);
      expect(
        await codeOf(createDownloadUrl(f.deps, bob.who, { fileId: "", sha1: file.sha1, ttlSeconds: 0 })),
      ).toBe(Code.NotFound);
      expect(await codeOf(revokeDownloadUrls(f.deps, bob.who, file.id))).toBe(Code.NotFound);
    });

    test("no token, a bad token, a wrong method, an unknown route", async () => {
      expect((await f.get(`/download/v1/files/${file.id}`)).status).toBe(401);
      expect((await f.get(`/download/v1/files/${file.id}`, { authorization: "Bearer nope" })).status).toBe(
        401,
      );
      const put = await f.get(`/download/v1/files/${file.id}`, auth(alice), "PUT");
      expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
      expect((await f.get("/download/v1/elsewhere", auth(alice))).status).toBe(404);
      expect((await f.get("/download/v1/files/%E0%A4%A", auth(alice))).status).toBe(404);
    });

    test("signed links: valid without credentials; refused after expiry, tampering and revocation", async () => {
      const link = await createDownloadUrl(f.deps, alice.who, { fileId: file.id, sha1: "", ttlSeconds: 5 });
      expect(link.url).toStartWith(`/download/v1/links/${file.id}?`);
      expect(link.url).not.toContain(alice.token);
      const ok = await f.get(link.url, { range: "bytes=-3" });
      expect(ok.status).toBe(206);
      expect(await body(ok)).toEqual(data.subarray(-3));

      const tampered = link.url.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
      const bad = await f.get(tampered);
      expect(bad.status).toBe(403);
      expect(((await bad.json()) as { message: string }).message).toContain("not valid");

      const expiresMs = Number(link.expiresAt?.seconds) * 1000;
      f.clock.now = expiresMs - 1;
      expect((await f.get(link.url)).status).toBe(200);
      f.clock.now = expiresMs + 1000;
      const late = await f.get(link.url);
      expect(late.status).toBe(403);
      expect(((await late.json()) as { message: string }).message).toContain("expired");
      f.clock.now = Date.now();

      const fresh = await createDownloadUrl(f.deps, alice.who, {
        fileId: "",
        sha1: file.sha1,
        ttlSeconds: 0,
      });
      expect((await f.get(fresh.url)).status).toBe(200);
      await revokeDownloadUrls(f.deps, alice.who, file.id);
      const revoked = await f.get(fresh.url);
      expect(revoked.status).toBe(403);
      expect(((await revoked.json()) as { message: string }).message).toContain("revoked");
      // Links made after the revocation work.
      const after = await createDownloadUrl(f.deps, alice.who, { fileId: file.id, sha1: "", ttlSeconds: 0 });
      expect((await f.get(after.url)).status).toBe(200);
      // Missing parameters, or a link to an unknown file.
      expect((await f.get(`/download/v1/links/${file.id}`)).status).toBe(403);
      expect((await f.get(after.url.replace(file.id, crypto.randomUUID()))).status).toBe(403);
    });

    test("a version downloads by a link made with its id; its ETag is its content's", async () => {
      const v1 = bytes(1000);
      const v2 = bytes(2000);
      const doc = await f.put(alice.who, "versioned.bin", v1);
      expect((await f.put(alice.who, "versioned.bin", v2, ConflictPolicy.REPLACE)).id).toBe(doc.id);
      const { versions } = await f.deps.meta.listVersions({ ownerId: alice.who.userId, fileId: doc.id });
      const versionId = versions[0]?.id ?? "";
      const link = await createDownloadUrl(f.deps, alice.who, {
        fileId: doc.id,
        sha1: "",
        ttlSeconds: 0,
        versionId,
      });
      const old = await f.get(link.url);
      expect(old.status).toBe(200);
      expect(await body(old)).toEqual(v1);
      expect(old.headers.get("etag")).toContain(sha256(v1));
      const current = await f.get(`/download/v1/files/${doc.id}`, auth(alice));
      expect(current.headers.get("etag")).toContain(sha256(v2));
      // Another version id under the same signature does not hold; an unknown version is not found.
      expect((await f.get(link.url.replace(versionId, crypto.randomUUID()))).status).toBe(403);
      const missing = { fileId: doc.id, sha1: "", ttlSeconds: 0, versionId: crypto.randomUUID() };
      expect(await codeOf(createDownloadUrl(f.deps, alice.who, missing))).toBe(Code.NotFound);
    });

    test("a lookup is reused for DOWNLOAD_LOOKUP_CACHE_MS, then the database decides again", async () => {
      const { id } = await f.put(alice.who, "soon-trashed.txt", bytes(50, 9));
      expect((await f.get(`/download/v1/files/${id}`, auth(alice))).status).toBe(200);
      await f.upload.db.updateTable("files").set({ status: "trashed" }).where("id", "=", id).execute();
      f.clock.now += 500;
      expect((await f.get(`/download/v1/files/${id}`, auth(alice))).status).toBe(200);
      // Ownership is part of the key: the cache never serves another user.
      expect((await f.get(`/download/v1/files/${id}`, auth(bob))).status).toBe(404);
      // Cache-Control: no-cache (WebDAV's reads) asks the database now.
      expect(
        (await f.get(`/download/v1/files/${id}`, auth(alice, { "cache-control": "no-cache" }))).status,
      ).toBe(404);
      f.clock.now += 600;
      expect((await f.get(`/download/v1/files/${id}`, auth(alice))).status).toBe(404);
      f.clock.now = Date.now();
    });

    test("link lifetimes outside the configured bounds are refused", async () => {
      for (const ttlSeconds of [-1, 3601]) {
        expect(
          await codeOf(createDownloadUrl(f.deps, alice.who, { fileId: file.id, sha1: "", ttlSeconds })),
        ).toBe(Code.InvalidArgument);
      }
      expect(
        await codeOf(createDownloadUrl(f.deps, alice.who, { fileId: "", sha1: "", ttlSeconds: 0 })),
      ).toBe(Code.InvalidArgument);
    });
  });
}

const s3 = testBlobStores().find((b) => b.backend === "s3");
if (s3) {
  describe("downloads on s3 with DOWNLOAD_S3_REDIRECT", () => {
    let f: DownloadFixture;
    beforeAll(async () => {
      f = await openDownloadFixture(s3, { s3Redirect: true });
    });
    afterAll(() => f?.close());

    test("a GET is a 302 to a presigned URL that serves the bytes, ranges and the name", async () => {
      const alice = await f.user("alice");
      const data = bytes(100_000, 3);
      const { id } = await f.put(alice.who, '中文 "q".txt', data);
      const res = await f.get(`/download/v1/files/${id}`, { authorization: `Bearer ${alice.token}` });
      expect(res.status).toBe(302);
      const location = res.headers.get("location") as string;
      const whole = await fetch(location);
      expect(whole.status).toBe(200);
      expect(await body(whole)).toEqual(data);
      expect(filenameOf(whole.headers.get("content-disposition") ?? "")).toBe('中文 "q".txt');
      const part = await fetch(location, { headers: { range: "bytes=10-19" } });
      expect([part.status, ...(await body(part))]).toEqual([206, ...data.subarray(10, 20)]);
      // HEAD is answered here (a presigned GET is not valid for HEAD).
      const head = await f.get(
        `/download/v1/files/${id}`,
        { authorization: `Bearer ${alice.token}` },
        "HEAD",
      );
      expect([head.status, head.headers.get("content-length")]).toEqual([200, String(data.length)]);
    });
  });
}
