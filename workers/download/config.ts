// The download worker's settings: signed links, S3 redirects, the lookup cache, thumbnail URLs, nginx.
import { type Env, int } from "../lib/config.ts";
import { envBool } from "../lib/env-bool.ts";
import { ffmpegFrom } from "../lib/thumbnail-kinds.ts";

export interface DownloadConfig {
  /** Signs download links (DOWNLOAD_LINK_SECRET); unset: derived from the internal secret. */
  linkSecret: string | undefined;
  /** Lifetime of a download link when the caller names none, and the longest one may ask for. */
  urlTtlSeconds: number;
  urlMaxTtlSeconds: number;
  /** Base URL of links (PUBLIC_DOWNLOAD_URL, e.g. https://files.example.com); unset: gateway-relative. */
  publicUrl: string;
  /** GETs of content on S3 answer 302 to a presigned URL (DOWNLOAD_S3_REDIRECT) instead of streaming. */
  s3Redirect: boolean;
  /** How long a download worker reuses a file lookup (DOWNLOAD_LOOKUP_CACHE_MS; 0: off). */
  lookupCacheMs: number;
  /** Signed thumbnail URLs live between this and twice this long (THUMBNAIL_URL_TTL_SECONDS, default 3600). */
  thumbnailUrlTtlSeconds: number;
  /** Videos get thumbnails (an ffmpeg is found as the file worker finds it; see THUMBNAIL_FFMPEG). */
  videoThumbnails: boolean;
  /**
   * DOWNLOAD_ACCEL=nginx: local content is answered with `X-Accel-Redirect: <accelPrefix><location>` and no
   * body, for the nginx in front (deploy/nginx/) to send from its internal location; every check stays
   * here. Unset: the worker sends the bytes. Only with that nginx in front: anyone else gets empty bodies.
   */
  accelPrefix: string | undefined;
  /** The most entries (files and folders) a folder ZIP may hold (ZIP_MAX_ENTRIES, default 100000). */
  zipMaxEntries: number;
}

/** DOWNLOAD_ACCEL (off | nginx) and DOWNLOAD_ACCEL_PREFIX (the internal location, default /_filestore/). */
function accelPrefixFrom(env: Env): string | undefined {
  const accel = (env.DOWNLOAD_ACCEL ?? "").trim().toLowerCase();
  if (accel === "" || accel === "off") return undefined;
  if (accel !== "nginx") throw new Error(`DOWNLOAD_ACCEL must be off or nginx, not "${env.DOWNLOAD_ACCEL}"`);
  const prefix = env.DOWNLOAD_ACCEL_PREFIX || "/_filestore/";
  if (!/^\/[A-Za-z0-9_\-/]*\/$/.test(prefix) || prefix.includes("//"))
    throw new Error(`DOWNLOAD_ACCEL_PREFIX must be a path that starts and ends with "/", not "${prefix}"`);
  return prefix;
}

export function loadDownloadConfig(env: Env): DownloadConfig {
  return {
    linkSecret: env.DOWNLOAD_LINK_SECRET || undefined,
    urlTtlSeconds: int(env, "DOWNLOAD_URL_TTL_SECONDS", 900),
    urlMaxTtlSeconds: int(env, "DOWNLOAD_URL_MAX_TTL_SECONDS", 7 * 24 * 3600),
    publicUrl: env.PUBLIC_DOWNLOAD_URL || "",
    s3Redirect: envBool(env, "DOWNLOAD_S3_REDIRECT", false),
    lookupCacheMs: int(env, "DOWNLOAD_LOOKUP_CACHE_MS", 1000),
    thumbnailUrlTtlSeconds: int(env, "THUMBNAIL_URL_TTL_SECONDS", 3600),
    videoThumbnails: ffmpegFrom(env) !== undefined,
    accelPrefix: accelPrefixFrom(env),
    zipMaxEntries: int(env, "ZIP_MAX_ENTRIES", 100_000),
  };
}
