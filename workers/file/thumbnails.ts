// Thumbnails of content: two WebP sizes (fit inside 256 and 1024 px) from an image (sharp/libvips) or the
// first frame of a video (a Debian ffmpeg on PATH, when there is one), stored on the landing blob store as
// derived blobs: one per content and size however many files name it, never counted against a quota.
// Bounded: inputs over maxInputBytes or maxInputPixels (decompression bombs: sharp's limitInputPixels) are
// skipped, every step has a timeout; content that cannot be read as an image is recorded as "skipped" so
// that it is not tried again.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Sharp from "sharp";
import type { BlobStore, StoreFor } from "../lib/blobstore/types.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { sourceKindOf, THUMBNAIL_SIZES } from "../lib/thumbnail-kinds.ts";

/**
 * sharp (libvips, ~15 MiB of resident memory once loaded), loaded when the first image is thumbnailed
 * rather than when the process starts: most of a server's life no image arrives. One libvips thread per
 * image and no operation cache: thumbnails are background work on a small machine.
 */
let loading: Promise<typeof Sharp> | undefined;
function loadSharp(): Promise<typeof Sharp> {
  loading ??= import("sharp").then(({ default: sharp }) => {
    sharp.concurrency(1);
    sharp.cache(false);
    return sharp;
  });
  return loading;
}

export interface ThumbnailDeps {
  meta: MetaClient;
  storeFor: StoreFor;
  /** Where thumbnails are stored (the landing store of new content). */
  landing: BlobStore;
  /** Larger images are skipped (THUMBNAIL_MAX_INPUT_BYTES). */
  maxInputBytes: number;
  /** Images with more pixels are skipped before they are decoded (THUMBNAIL_MAX_INPUT_PIXELS). */
  maxInputPixels: number;
  /** Larger videos are skipped (THUMBNAIL_MAX_VIDEO_BYTES): ffmpeg reads them from a temporary copy. */
  maxVideoBytes: number;
  /** The longest one source may take, per step (THUMBNAIL_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  /** The ffmpeg binary, or undefined when none is installed: videos are then left alone. */
  ffmpeg: string | undefined;
  log?: Logger;
}

export interface Source {
  sha256: string;
  size: number;
  backend: string;
  location: string;
  name: string;
}

/** made: thumbnails stored; skipped: none can be made (recorded); ignored: not a source (nothing recorded). */
export type Outcome = "made" | "skipped" | "ignored";

/** Thumbnails of one source: made and recorded, or recorded as skipped. Store and meta failures throw. */
export async function makeThumbnails(deps: ThumbnailDeps, src: Source): Promise<Outcome> {
  const kind = sourceKindOf(src.name);
  if (!kind || (kind === "video" && !deps.ffmpeg)) return "ignored";
  let images: Buffer[];
  try {
    const input = kind === "image" ? await imageInput(deps, src) : await videoFrame(deps, src);
    images = input ? await resize(deps, input) : [];
  } catch (err) {
    if (err instanceof SourceError) throw err.cause;
    // The content is not an image sharp can read (corrupt, truncated, over the pixel limit): skipped.
    deps.log?.info("no thumbnail for content", { sha256: src.sha256, err: String(err) });
    images = [];
  }
  // The first size is recorded last: the sweep finds content by its absence, so a failure half-way
  // leaves the content a candidate to try again.
  const order = [...THUMBNAIL_SIZES.entries()].reverse();
  if (images.length === 0) {
    for (const [, { kind }] of order)
      await deps.meta.putDerived({
        record: { sha256: src.sha256, kind, state: "skipped", backend: "", location: "", size: 0n },
      });
    return "skipped";
  }
  for (const [i, { kind }] of order) await store(deps, src.sha256, kind, images[i] as Buffer);
  return "made";
}

/** A failure of the store (not of the content): the pass stops and tries again later. */
class SourceError extends Error {}

async function readAll(deps: ThumbnailDeps, src: Source): Promise<Buffer> {
  try {
    return Buffer.from(await new Response(await deps.storeFor(src.backend).read(src.location)).arrayBuffer());
  } catch (cause) {
    throw new SourceError("reading the content failed", { cause });
  }
}

async function imageInput(deps: ThumbnailDeps, src: Source): Promise<Buffer | undefined> {
  if (src.size > deps.maxInputBytes) return undefined;
  return readAll(deps, src);
}

/** The first frame of a video as PNG, by ffmpeg from a temporary copy (MP4s may keep their index last). */
async function videoFrame(deps: ThumbnailDeps, src: Source): Promise<Buffer | undefined> {
  if (src.size > deps.maxVideoBytes) return undefined;
  const dir = await mkdtemp(join(tmpdir(), "filestore-thumb-"));
  try {
    const path = join(dir, "video");
    try {
      await Bun.write(path, new Response(await deps.storeFor(src.backend).read(src.location)));
    } catch (cause) {
      throw new SourceError("reading the content failed", { cause });
    }
    const args = [
      "-v",
      "error",
      "-nostdin",
      "-i",
      path,
      "-frames:v",
      "1",
      "-f",
      "image2pipe",
      "-c:v",
      "png",
      "-",
    ];
    const proc = Bun.spawn([deps.ffmpeg as string, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const timer = setTimeout(() => proc.kill(), deps.timeoutSeconds * 1000);
    try {
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).arrayBuffer(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      if (code !== 0 || out.byteLength === 0)
        throw new Error(`ffmpeg failed (${code}): ${err.slice(0, 200)}`);
      return Buffer.from(out);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each size as WebP, upright (EXIF orientation), never enlarged; the first frame of animations. */
async function resize(deps: ThumbnailDeps, input: Buffer): Promise<Buffer[]> {
  const sharp = await loadSharp();
  const opts = { limitInputPixels: deps.maxInputPixels, failOn: "error" as const };
  // Reading the header first refuses decompression bombs before any pixel is decoded.
  const meta = await sharp(input, opts).metadata();
  if (!meta.width || !meta.height) throw new Error("not an image");
  return Promise.all(
    THUMBNAIL_SIZES.map(({ px }) =>
      sharp(input, opts)
        .timeout({ seconds: deps.timeoutSeconds })
        .rotate()
        .resize(px, px, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer(),
    ),
  );
}

/** Stores one thumbnail and records it; when another pass recorded it first, our copy goes. */
async function store(deps: ThumbnailDeps, sha256: string, kind: string, bytes: Buffer): Promise<void> {
  const staged = await deps.landing.stage(new Blob([new Uint8Array(bytes)]).stream());
  const location = await staged.commit();
  const { recorded } = await deps.meta.putDerived({
    record: {
      sha256,
      kind,
      state: "ready",
      backend: deps.landing.backend,
      location,
      size: BigInt(bytes.length),
    },
  });
  if (!recorded) await deps.landing.delete(location);
}
