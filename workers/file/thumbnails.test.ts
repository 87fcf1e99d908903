// Thumbnails on a real blob store and both databases: made in the background after uploads (the sweep),
// one per content however many files share it, corrupt and oversized images skipped without stopping the
// pass, video frames with ffmpeg (when installed) and none without, deleted with their content by GC.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import type { Identity } from "../../core/access-token.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { sourceKindOf } from "../lib/thumbnail-kinds.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { runGcPass } from "./gc.ts";
import { thumbnailSweep } from "./thumbnail-sweep.ts";
import type { ThumbnailDeps } from "./thumbnails.ts";

const FFMPEG = Bun.which("ffmpeg") ?? undefined;
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const png = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();

async function sampleVideo(): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!FFMPEG) return undefined;
  const out = `${process.env.TMPDIR ?? "/tmp"}/thumb-test-${crypto.randomUUID()}.mp4`;
  const args = [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=5",
    "-t",
    "1",
    "-pix_fmt",
    "yuv420p",
  ];
  const p = Bun.spawn([FFMPEG, ...args, out], { stdout: "ignore", stderr: "ignore" });
  if ((await p.exited) !== 0) return undefined;
  const bytes = new Uint8Array(await Bun.file(out).arrayBuffer());
  await Bun.file(out).delete();
  return bytes;
}

test("source kinds by name", () => {
  expect(["a.JPG", "b.png", "c.gif", "d.webp", "e.avif", "f.tiff", "g.svg"].map(sourceKindOf)).toEqual(
    Array(7).fill("image"),
  );
  expect(sourceKindOf("clip.mp4")).toBe("video");
  expect(sourceKindOf("notes.txt")).toBeUndefined();
  expect(sourceKindOf("jpg")).toBeUndefined();
});

const backend = testBlobStores()[0] as ReturnType<typeof testBlobStores>[0];
for (const database of testDatabases()) {
  describe(`thumbnails on ${backend.backend} with ${database.dialect}`, () => {
    const clock = { now: 1_000_000 };
    let f: UploadFixture;
    let alice: Identity;
    let deps: ThumbnailDeps;
    const put = async (name: string, bytes: Uint8Array) =>
      storeUpload(f.deps, alice, { name, parentId: "" }, new Blob([new Uint8Array(bytes)]).stream());
    const derived = (sha: string, kind = "thumb-256") => f.deps.meta.getDerived({ sha256: sha, kind });
    const sweep = (over: Partial<ThumbnailDeps> = {}) =>
      thumbnailSweep({ ...deps, ...over }, { concurrency: 2, now: () => clock.now });

    beforeAll(async () => {
      f = await openUploadFixture(backend, clock, database);
      alice = await f.user("alice");
      deps = {
        meta: f.deps.meta,
        storeFor: storeForAll(f.opened.store),
        landing: f.opened.store,
        maxInputBytes: 4 * 1024 * 1024,
        maxInputPixels: 5_000_000,
        maxVideoBytes: 64 * 1024 * 1024,
        timeoutSeconds: 20,
        ffmpeg: FFMPEG,
      };
    });
    afterAll(() => f?.close());

    test("after uploads: two WebP sizes, one per content, corrupt and oversized skipped, the pass goes on", async () => {
      const photo = await png(1600, 900);
      const small = await png(100, 50);
      const gif = await sharp({ create: { width: 300, height: 300, channels: 4, background: "#0f0" } })
        .gif()
        .toBuffer();
      const corrupt = crypto.getRandomValues(new Uint8Array(5000));
      const bomb = await png(3000, 2000); // 6 MP: over this test's 5 MP limit, refused before decoding
      const svg = new TextEncoder().encode(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><script>alert(1)</script><rect width="400" height="200" fill="blue"/></svg>',
      );
      // The corrupt image comes first: the pass must go on past it.
      await put("broken.jpg", corrupt);
      const a = await put("photo.png", photo);
      const b = await put("same photo.png", photo); // the same content: one thumbnail per size
      await put("tiny.png", small);
      await put("anim.gif", gif);
      await put("huge.png", bomb);
      await put("drawing.svg", svg);
      const base = () => sharp({ create: { width: 640, height: 480, channels: 3, background: "#abc" } });
      await put("p.webp", await base().webp().toBuffer());
      await put("p.avif", await base().avif().toBuffer());
      await put("p.tiff", await base().tiff().toBuffer());
      await put("p.jpeg", await base().jpeg().toBuffer());
      await put("notes.txt", new TextEncoder().encode("hello"));
      expect(a.blobSha256).toBe(b.blobSha256);
      const before = (await f.stored()).length;

      const r = await sweep().pass();
      expect(r).toEqual({ made: 8, skipped: 2, failed: 0 });
      // photo (once), tiny, anim, drawing, WebP, AVIF, TIFF, JPEG: two stored thumbnails each.
      expect((await f.stored()).length - before).toBe(16);

      for (const [kind, px] of [
        ["thumb-256", 256],
        ["thumb-1024", 1024],
      ] as const) {
        const got = await derived(a.blobSha256, kind);
        expect([got.found, got.record?.state]).toEqual([true, "ready"]);
        const bytes = await new Response(
          await f.opened.store.read(got.record?.location as string),
        ).arrayBuffer();
        const m = await sharp(bytes).metadata();
        expect([m.format, Math.max(m.width ?? 0, m.height ?? 0)]).toEqual(["webp", px]);
        expect(Number(got.record?.size)).toBe(bytes.byteLength);
      }
      // Never enlarged.
      const tiny = await derived(sha256(small), "thumb-1024");
      const tm = await sharp(
        await new Response(await f.opened.store.read(tiny.record?.location as string)).arrayBuffer(),
      ).metadata();
      expect([tm.width, tm.height]).toEqual([100, 50]);
      for (const sha of [sha256(corrupt), sha256(bomb)])
        expect((await derived(sha)).record?.state).toBe("skipped");
      expect((await derived(sha256(new TextEncoder().encode("hello")))).found).toBe(false);
      // Nothing new: the next pass makes nothing.
      expect(await sweep().pass()).toEqual({ made: 0, skipped: 0, failed: 0 });
    });

    test("videos: the first frame with ffmpeg; without it, left alone", async () => {
      const video = await sampleVideo();
      if (!video) {
        console.warn("no ffmpeg on PATH: the video frame case is not exercised");
        return;
      }
      clock.now += 10_000;
      await put("clip.mp4", video);
      expect(await sweep({ ffmpeg: undefined }).pass()).toEqual({ made: 0, skipped: 0, failed: 0 });
      expect((await derived(sha256(video))).found).toBe(false);
      expect(await sweep().pass()).toEqual({ made: 1, skipped: 0, failed: 0 });
      const got = await derived(sha256(video), "thumb-1024");
      const m = await sharp(
        await new Response(await f.opened.store.read(got.record?.location as string)).arrayBuffer(),
      ).metadata();
      expect([m.format, m.width, m.height]).toEqual(["webp", 320, 240]);
    });

    test("garbage collection deletes the thumbnails with their content", async () => {
      clock.now += 10_000;
      const bytes = await png(500, 500);
      const file = await put("gone.png", bytes);
      await sweep().pass();
      const rows = await Promise.all(["thumb-256", "thumb-1024"].map((k) => derived(file.blobSha256, k)));
      const locations = rows.map((r) => r.record?.location as string);
      for (const l of locations) expect(await f.opened.store.stat(l)).toBeDefined();
      await f.deps.meta.purgeFile({ ownerId: alice.userId, fileId: file.id });
      clock.now += 120_000;
      await runGcPass({ meta: f.deps.meta, storeFor: deps.storeFor, graceMs: 60_000 });
      for (const k of ["thumb-256", "thumb-1024"])
        expect((await derived(file.blobSha256, k)).found).toBe(false);
      for (const l of locations) expect(await f.opened.store.stat(l)).toBeUndefined();
    });
  });
}
