// Thumbnail serving: GetThumbnails' states and signed URLs (stable for a while, one per content), and the
// route an <img> uses: caching headers, ETag/304, HEAD, 404 while none exists, unsigned / forged / expired
// URLs refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import sharp from "sharp";
import type { Identity } from "../../core/access-token.ts";
import { ThumbnailSize, ThumbnailState } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import { thumbnailSweep } from "../file/thumbnail-sweep.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import { type DownloadFixture, openDownloadFixture } from "./testing.ts";
import { getThumbnails, thumbnailUrl } from "./thumbnails.ts";

const png = (w: number, h: number, r = 10) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 100, b: 200 } } })
    .png()
    .toBuffer();

for (const backend of testBlobStores()) {
  describe(`thumbnails served from ${backend.backend}`, () => {
    let f: DownloadFixture;
    let alice: { who: Identity; token: string };
    let bob: { who: Identity; token: string };
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      f = await openDownloadFixture(backend);
      alice = await f.user("alice");
      bob = await f.user("bob");
      const photo = new Uint8Array(await png(800, 600));
      ids.photo = (await f.put(alice.who, "photo.png", photo)).id;
      ids.copy = (await f.put(alice.who, "copy.png", photo)).id;
      ids.notes = (await f.put(alice.who, "notes.txt", new TextEncoder().encode("hi"))).id;
      ids.clip = (await f.put(alice.who, "clip.mp4", new Uint8Array(100))).id;
      ids.bobs = (await f.put(bob.who, "bob.png", new Uint8Array(await png(10, 10, 99)))).id;
      const u = f.upload;
      await thumbnailSweep(
        {
          meta: u.deps.meta,
          storeFor: storeForAll(u.opened.store),
          landing: u.opened.store,
          maxInputBytes: 1 << 24,
          maxInputPixels: 1e7,
          maxVideoBytes: 1 << 24,
          timeoutSeconds: 20,
          ffmpeg: undefined,
        },
        { concurrency: 1, now: () => f.clock.now },
      ).pass();
      ids.later = (await f.put(alice.who, "later.png", new Uint8Array(await png(20, 20, 50)))).id;
    });
    afterAll(() => f?.close());

    const ask = (fileIds: string[], size = ThumbnailSize.SMALL) =>
      getThumbnails(f.deps.thumbnails, alice.who, { fileIds, size });

    test("states per file, in order; one URL per content; the same URL on the next call", async () => {
      const { thumbnails } = await ask([
        ids.photo,
        ids.copy,
        ids.notes,
        ids.clip,
        ids.later,
        ids.bobs,
        "x",
      ] as string[]);
      expect(thumbnails.map((t) => t.state)).toEqual([
        ThumbnailState.READY,
        ThumbnailState.READY,
        ThumbnailState.NONE,
        ThumbnailState.NONE, // no ffmpeg here
        ThumbnailState.PENDING,
        ThumbnailState.NOT_FOUND, // bob's
        ThumbnailState.NOT_FOUND,
      ]);
      const [a, b] = thumbnails;
      expect(a?.url).toStartWith("/download/v1/thumbnails/");
      expect(a?.url).toBe(b?.url as string);
      f.clock.now += 1000;
      expect((await ask([ids.photo as string])).thumbnails[0]?.url).toBe(a?.url as string);
      const large = (await ask([ids.photo as string], ThumbnailSize.LARGE)).thumbnails[0]?.url as string;
      expect(large).toContain("/1024?");
      expect(await codeOf(ask([], 9 as ThumbnailSize))).toBe(Code.InvalidArgument);
      expect(await codeOf(ask(Array.from({ length: 501 }, (_, i) => String(i))))).toBe(Code.InvalidArgument);
    });

    test("the route: WebP, long-lived private caching, ETag and 304, HEAD, no credentials needed", async () => {
      const url = (await ask([ids.photo as string])).thumbnails[0]?.url as string;
      const res = await f.get(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/webp");
      expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
      const etag = res.headers.get("etag") as string;
      expect(etag).toMatch(/^"[0-9a-f]{64}-256"$/);
      const m = await sharp(await res.arrayBuffer()).metadata();
      expect([m.format, m.width, m.height]).toEqual(["webp", 256, 192]);
      const again = await f.get(url, { "if-none-match": etag });
      expect(again.status).toBe(304);
      const head = await f.get(url, {}, "HEAD");
      expect([head.status, Number(head.headers.get("content-length")) > 0]).toEqual([200, true]);
      expect((await f.get(url, {}, "DELETE")).status).toBe(405);
    });

    test("unsigned, forged, altered or expired URLs are refused (403); none yet is 404", async () => {
      const url = (await ask([ids.photo as string])).thumbnails[0]?.url as string;
      const path = url.slice(0, url.indexOf("?"));
      const forged = [
        path,
        `${path}?exp=99999999999`,
        url.replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`),
        url.replace(/exp=(\d)/, (_, d) => `exp=${(Number(d) + 1) % 10}`),
        url.replace("/256?", "/1024?"),
        url.replace(/thumbnails\/(.)/, (_, c) => `thumbnails/${c === "0" ? "1" : "0"}`),
        url.replace("/256?", "/300?"),
      ];
      for (const u of forged) {
        const res = await f.get(u);
        expect([u, res.status]).toEqual([u, 403]);
        expect(((await res.json()) as { code: string }).code).toBe("permission_denied");
      }
      const none = thumbnailUrl(f.deps.thumbnails, "e".repeat(64), 256);
      expect((await f.get(none)).status).toBe(404);
      // Bytes gone while the row is still cached on this replica (GC meanwhile): 404, not a broken answer.
      const sha = (url.match(/thumbnails\/([0-9a-f]{64})\//) as RegExpMatchArray)[1] as string;
      const row = await f.deps.meta.getDerived({ sha256: sha, kind: "thumb-256" });
      expect((await f.get(url)).status).toBe(200);
      await f.upload.opened.store.delete(row.record?.location as string);
      expect((await f.get(url)).status).toBe(404);
      f.clock.now += 3 * 3600 * 1000;
      const expired = await f.get(url);
      expect(expired.status).toBe(403);
      expect(((await expired.json()) as { message: string }).message).toContain("expired");
    });
  });
}
