// Thumbnails for <img> tags: GetThumbnails answers a page of files with one signed URL each (no
// Authorization header needed, no RPC per image), and the data plane serves
//   GET|HEAD /download/v1/thumbnails/<sha256>/<px>?exp=<epoch s>&sig=<mac>
// where mac is HMAC-SHA256 (the link key) over the content, the size and the expiry. The URL names the
// content, not a file: one thumbnail per content, cached by the browser for as long as it likes
// (immutable), and checked without a database lookup. Expiries are rounded up to the next period, so a
// folder opened again within the hour gets the same URLs (browser cache hits).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Identity } from "../../core/access-token.ts";
import type { ExpiringCache } from "../../core/cache.ts";
import { THUMBNAILS_PATH } from "../../core/data-paths.ts";
import { ThumbnailSize, ThumbnailState } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import type { StoreFor } from "../lib/blobstore/types.ts";
import { invalidArgument, notFound, permissionDenied } from "../lib/errors.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { sourceKindOf, THUMBNAIL_SIZES } from "../lib/thumbnail-kinds.ts";
import { isHex } from "../lib/validate.ts";
import { noneMatch } from "./http.ts";

export interface ThumbnailServing {
  meta: MetaClient;
  storeFor: StoreFor;
  linkKey: Uint8Array;
  /** URLs live between this and twice this long (THUMBNAIL_URL_TTL_SECONDS). */
  urlTtlSeconds: number;
  publicUrl: string;
  /** Videos get thumbnails (an ffmpeg is installed): they are PENDING until theirs exists, else NONE. */
  videos: boolean;
  /** Thumbnail rows are immutable while they exist: kept a minute per replica. */
  rows: ExpiringCache<string, ThumbnailRow>;
  now: () => number;
}

export interface ThumbnailRow {
  backend: string;
  location: string;
  size: number;
}

const MAX_FILES = 500;
const SIZES = new Map<number, (typeof THUMBNAIL_SIZES)[number]>(THUMBNAIL_SIZES.map((s) => [s.px, s]));
const SIZE_OF: Record<number, (typeof THUMBNAIL_SIZES)[number]> = {
  [ThumbnailSize.UNSPECIFIED]: THUMBNAIL_SIZES[0],
  [ThumbnailSize.SMALL]: THUMBNAIL_SIZES[0],
  [ThumbnailSize.LARGE]: THUMBNAIL_SIZES[1],
};

const mac = (key: Uint8Array, sha256: string, px: number, exp: number) =>
  createHmac("sha256", key).update(`thumb/v1\n${sha256}\n${px}\n${exp}`).digest("base64url");

/** The signed URL of content's thumbnail at a size; its expiry rounded up (the same URL for a while). */
export function thumbnailUrl(deps: ThumbnailServing, sha256: string, px: number): string {
  const ttl = deps.urlTtlSeconds;
  const exp = (Math.floor(deps.now() / 1000 / ttl) + 2) * ttl;
  const base = deps.publicUrl.replace(/\/+$/, "");
  return `${base}${THUMBNAILS_PATH}${sha256}/${px}?exp=${exp}&sig=${mac(deps.linkKey, sha256, px, exp)}`;
}

export async function getThumbnails(
  deps: ThumbnailServing,
  who: Identity,
  req: { fileIds: string[]; size: ThumbnailSize },
) {
  const size = SIZE_OF[req.size];
  if (!size) throw invalidArgument("size must be THUMBNAIL_SIZE_SMALL or THUMBNAIL_SIZE_LARGE");
  if (req.fileIds.length > MAX_FILES) throw invalidArgument(`at most ${MAX_FILES} file_ids at once`);
  const { files } = await deps.meta.getFilesDerived({
    ownerId: who.userId,
    fileIds: req.fileIds,
    kind: size.kind,
  });
  return {
    thumbnails: files.map((f) => {
      if (!f.found) return { fileId: f.fileId, state: ThumbnailState.NOT_FOUND, url: "" };
      if (f.state === "ready") {
        return { fileId: f.fileId, state: ThumbnailState.READY, url: thumbnailUrl(deps, f.sha256, size.px) };
      }
      const kind = f.state === "" ? sourceKindOf(f.name) : undefined;
      const pending = kind === "image" || (kind === "video" && deps.videos);
      return { fileId: f.fileId, state: pending ? ThumbnailState.PENDING : ThumbnailState.NONE, url: "" };
    }),
  };
}

const INVALID = "this thumbnail URL is not valid (it was changed or is incomplete); ask for a new one";

/** The content, size and stored row a signed thumbnail URL names; 403 when it does not hold, 404 if none. */
async function thumbnailOf(deps: ThumbnailServing, path: string, url: string) {
  const [sha256 = "", pxText = ""] = path.slice(THUMBNAILS_PATH.length).split("/");
  const px = Number(pxText);
  const query = new URLSearchParams(url.slice(url.indexOf("?") + 1));
  const expText = url.includes("?") ? (query.get("exp") ?? "") : "";
  const sig = Buffer.from(query.get("sig") ?? "");
  const size = SIZES.get(px);
  if (!isHex(sha256, 64) || !size || String(px) !== pxText || !/^\d{1,12}$/.test(expText))
    throw permissionDenied(INVALID);
  const exp = Number(expText);
  const expected = Buffer.from(mac(deps.linkKey, sha256, px, exp));
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw permissionDenied(INVALID);
  if (exp * 1000 <= deps.now()) throw permissionDenied("this thumbnail URL has expired; ask for a new one");
  const key = `${sha256}/${size.kind}`;
  let row = deps.rows.get(key);
  if (!row) {
    const got = await deps.meta.getDerived({ sha256, kind: size.kind });
    if (!got.found || got.record?.state !== "ready") throw notFound("no thumbnail of this content (yet)");
    row = { backend: got.record.backend, location: got.record.location, size: Number(got.record.size) };
    deps.rows.set(key, row, deps.now() + 60_000);
  }
  return { etag: `"${sha256}-${px}"`, row, key };
}

/** The answer to a GET or HEAD of a signed thumbnail URL (errors thrown as ConnectErrors). */
export async function serveThumbnail(deps: ThumbnailServing, req: Request, path: string): Promise<Response> {
  const { etag, row, key } = await thumbnailOf(deps, path, req.url);
  const headers = {
    etag,
    "cache-control": "private, max-age=31536000, immutable",
    "content-type": "image/webp",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
  const ifNoneMatch = req.headers.get("if-none-match");
  if (ifNoneMatch && noneMatch(ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  const full = { ...headers, "content-length": String(row.size) };
  if (req.method === "HEAD") return new Response(null, { status: 200, headers: full });
  let body: ReadableStream<Uint8Array>;
  try {
    // read(), not a file Blob: it fails here, as a 404, when the bytes are gone (a row cached before GC).
    body = await deps.storeFor(row.backend).read(row.location);
  } catch {
    deps.rows.delete(key);
    throw notFound("no thumbnail of this content (yet)");
  }
  return new Response(body, { status: 200, headers: full });
}
