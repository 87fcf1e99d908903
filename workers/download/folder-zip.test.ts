// Folder ZIPs through the download module against real blob stores (local disk, and Ceph RGW when
// configured) and meta on SQLite: a tree with nested and empty folders and non-ASCII names read back by
// zipfile and `unzip -t` with the exact length; the links' refusals (forged, expired, revoked, a file, a
// folder of someone else); the entry cap; content purged mid-stream ends the stream instead of lying.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { Code } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import { revokeDownloadUrls } from "./download.ts";
import { createFolderZipUrl, folderZipResponse } from "./folder-zip.ts";
import { type DownloadFixture, filenameOf, openDownloadFixture } from "./testing.ts";
import { checkZip } from "./zip-check.ts";

const dir = mkdtempSync(join(tmpdir(), "folder-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + (i >> 9)) & 255);

for (const backend of testBlobStores()) {
  describe(`folder ZIPs on ${backend.backend}`, () => {
    let f: DownloadFixture;
    let alice: { who: Identity; token: string };
    let bob: { who: Identity; token: string };
    let root = "";
    let fileId = "";
    const big = bytes(3 * 1024 * 1024 + 5, 13);
    const folder = async (who: Identity, parentId: string, name: string) =>
      (await f.upload.deps.meta.createFolder({ ownerId: who.userId, parentId, name })).folder?.id ?? "";

    beforeAll(async () => {
      f = await openDownloadFixture(backend, { bunServeRanges: false });
      alice = await f.user("zip-alice");
      bob = await f.user("zip-bob");
      root = await folder(alice.who, "", "Été ✓");
      fileId = (await f.put(alice.who, "big.bin", big, undefined, root)).id;
      await f.put(alice.who, "note.txt", new TextEncoder().encode("hello"), undefined, root);
      const sub = await folder(alice.who, root, "子フォルダ");
      await f.put(alice.who, "deep.txt", new TextEncoder().encode("deep"), undefined, sub);
      await folder(alice.who, sub, "empty");
    });
    afterAll(() => f.close());

    const mint = async (who = alice.who, folderId = root) =>
      (await createFolderZipUrl(f.deps, who, { folderId, ttlSeconds: 0 })).url;

    test("the tree, zipped: zipfile and unzip -t read it, bytes and names match, length exact", async () => {
      const url = await mint();
      const res = await f.get(url);
      expect(res.status).toBe(200);
      // Bun.serve sends streamed bodies chunked (oven-sh/bun#10507, open in Bun 1.4): the worker's own
      // answer carries the length; the bytes a client gets must be exactly that many.
      const length = (await f.direct(url)).headers.get("content-length");
      expect(res.headers.get("content-length") ?? length).toBe(length);
      expect(filenameOf(res.headers.get("content-disposition") ?? "")).toBe("Été ✓.zip");
      const path = join(dir, `${backend.backend}.zip`);
      await Bun.write(path, await res.arrayBuffer());
      expect(String(statSync(path).size)).toBe(length ?? "");
      const members = await checkZip(path);
      expect(members.map((m) => [m.name, m.size, m.sha256])).toEqual([
        ["big.bin", big.length, sha256(big)],
        ["note.txt", 5, sha256("hello")],
        ["子フォルダ/", 0, sha256("")],
        ["子フォルダ/deep.txt", 4, sha256("deep")],
        ["子フォルダ/empty/", 0, sha256("")],
      ]);
      expect(members.every((m) => m.method === 0 && m.utf8)).toBe(true);
      const head = await f.get(await mint(), {}, "HEAD");
      expect(head.headers.get("content-length")).toBe(length);
    });

    test("CRC-32s: a ZIP stores those it summed; the next ZIP sends the stored ones and reads back the same", async () => {
      const first = await f.get(await mint());
      const firstBytes = new Uint8Array(await first.arrayBuffer());
      const contents = [big, new TextEncoder().encode("hello"), new TextEncoder().encode("deep")];
      const stored = async () =>
        Promise.all(
          contents.map(async (c) => (await f.upload.deps.meta.getBlob({ sha256: sha256(c) })).blob?.crc32),
        );
      // Recorded after the entry went out, without holding the stream up: wait for the calls to land.
      for (let i = 0; i < 100 && (await stored()).includes(undefined); i++) await Bun.sleep(50);
      expect(await stored()).toEqual(contents.map((c) => crc32(c)));
      const again = new Uint8Array(await (await f.get(await mint())).arrayBuffer());
      expect(again).toEqual(firstBytes);
      const path = join(dir, `${backend.backend}-stored-crc.zip`);
      await Bun.write(path, again);
      expect((await checkZip(path)).map((m) => m.sha256)).toContain(sha256(big));
    }, 60_000);

    test("minting: NotFound for unknown and others' folders, FailedPrecondition for a file, bad TTLs", async () => {
      expect(await codeOf(mint(alice.who, crypto.randomUUID()))).toBe(Code.NotFound);
      expect(await codeOf(mint(bob.who, root))).toBe(Code.NotFound);
      expect(await codeOf(mint(alice.who, fileId))).toBe(Code.FailedPrecondition);
      expect(await codeOf(mint(alice.who, ""))).toBe(Code.InvalidArgument);
      expect(
        await codeOf(createFolderZipUrl(f.deps, alice.who, { folderId: root, ttlSeconds: 999_999 })),
      ).toBe(Code.InvalidArgument);
    });

    test("links: forged, for another folder, expired, revoked: 403 with the reason", async () => {
      const url = await mint();
      const forged = url.replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`);
      const other = await folder(alice.who, "", "other");
      const swapped = url.replace(root, other);
      for (const u of [forged, swapped, url.replace(/&sig=.*/, "")]) {
        const r = await f.get(u);
        expect(r.status).toBe(403);
        expect(((await r.json()) as { message: string }).message).toContain("not valid");
      }
      f.clock.now += 3600_000;
      expect(((await (await f.get(url)).json()) as { message: string }).message).toContain("expired");
      f.clock.now -= 3600_000;
      await revokeDownloadUrls(f.deps, alice.who, root);
      const r = await f.get(url);
      expect([r.status, ((await r.json()) as { message: string }).message]).toEqual([
        403,
        "this download link was revoked; ask the owner for a new one",
      ]);
      expect((await f.get(await mint())).status).toBe(200);
    });

    test("past ZIP_MAX_ENTRIES: resource_exhausted before any byte", async () => {
      f.deps.zipMaxEntries = 4;
      try {
        const r = await f.get(await mint());
        expect(r.status).not.toBe(200);
        const e = (await r.json()) as { code: string; message: string };
        expect(e.code).toBe("resource_exhausted");
        expect(e.message).toContain("ZIP_MAX_ENTRIES");
      } finally {
        f.deps.zipMaxEntries = 1000;
      }
    });

    test("the share hook: an owner's folder under another name; content purged mid-stream cuts the stream", async () => {
      const res = await folderZipResponse(f.deps, "GET", {
        ownerId: alice.who.userId,
        folderId: root,
        rootName: "shared",
      });
      expect(filenameOf(res.headers.get("content-disposition") ?? "")).toBe("shared.zip");
      // The listing is done; the second file's content goes before the archive reaches it.
      const { blob } = await f.upload.deps.meta.getBlob({ sha256: sha256("hello") });
      await f.upload.opened.store.delete(blob?.location ?? "");
      await expect(res.arrayBuffer()).rejects.toThrow();
      expect(
        await codeOf(folderZipResponse(f.deps, "GET", { ownerId: bob.who.userId, folderId: root })),
      ).toBe(Code.NotFound);
    });
  });
}
