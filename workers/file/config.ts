// The file worker's settings: garbage collection, version retention, watch streams, thumbnails.
import { type Env, int } from "../lib/config.ts";
import { ffmpegFrom } from "../lib/thumbnail-kinds.ts";

export interface FileConfig {
  /**
   * Garbage collection of unreferenced content: a pass every GC_INTERVAL_SECONDS (0 = no timer;
   * FileAdminService.RunGarbageCollection still works), deleting content no file has referenced for
   * GC_GRACE_SECONDS.
   */
  gcIntervalSeconds: number;
  gcGraceSeconds: number;
  /**
   * Trash entries deleted more than TRASH_RETENTION_DAYS ago are purged by each garbage-collection pass
   * (0: kept until the user purges them).
   */
  trashRetentionDays: number;
  /** WatchFiles streams one user may hold open in one file-service process (FILE_MAX_WATCHES_PER_USER; 0: no cap). */
  maxWatchesPerUser: number;
  /** Versions older than VERSIONS_MAX_DAYS (default 30; 0: no age limit) are dropped by each GC pass. */
  versionsMaxDays: number;
  /**
   * Every QUOTA_RECOUNT_SECONDS (default 3600; 0: never) every user's usage counters are recomputed from
   * the tables and any drift fixed and logged.
   */
  quotaRecountSeconds: number;
  /** How often the storage gauges read their totals, at most (STORAGE_GAUGE_SECONDS): never per scrape. */
  storageGaugeSeconds: number;
  /**
   * The consistency checker (fsck) judges only objects unchanged for FSCK_GRACE_SECONDS (default 86400):
   * nothing an upload or a transfer could still claim is reported as an orphan, or deleted by a repair.
   */
  fsckGraceSeconds: number;
  /**
   * The file worker runs a dry consistency check every FSCK_INTERVAL_HOURS (default 0: never), one replica
   * at a time; its findings go to the log and the filestore_fsck_* metrics.
   */
  fsckIntervalHours: number;
  /**
   * The scrub's pace (SCRUB_BYTES_PER_HOUR, default 0): bytes re-hashed per hour by an administrator's
   * `fsck --scrub` that names none, and, when above 0, by each periodic check (which then scrubs too).
   */
  scrubBytesPerHour: number;
  thumbnails: ThumbnailConfig;
}

/** Thumbnails of images and videos (workers/file/thumbnails.ts). */
export interface ThumbnailConfig {
  /** Looks for content without thumbnails every THUMBNAIL_SWEEP_SECONDS (0: no thumbnails are made). */
  sweepSeconds: number;
  /** Sources worked on at once (THUMBNAIL_CONCURRENCY, 1 or 2). */
  concurrency: number;
  /** Larger images are skipped (THUMBNAIL_MAX_INPUT_BYTES, default 64 MiB). */
  maxInputBytes: number;
  /** Images with more pixels are skipped, before decoding (THUMBNAIL_MAX_INPUT_PIXELS, default 50 000 000). */
  maxInputPixels: number;
  /** Larger videos are skipped (THUMBNAIL_MAX_VIDEO_BYTES, default 1 GiB: ffmpeg reads a temporary copy). */
  maxVideoBytes: number;
  /** The longest one step of one source may take (THUMBNAIL_TIMEOUT_SECONDS, default 30). */
  timeoutSeconds: number;
  /** The ffmpeg binary for video frames (THUMBNAIL_FFMPEG; default: ffmpeg on PATH; "off": no videos). */
  ffmpeg: string | undefined;
}

export function loadFileConfig(env: Env): FileConfig {
  return {
    gcIntervalSeconds: int(env, "GC_INTERVAL_SECONDS", 600),
    gcGraceSeconds: int(env, "GC_GRACE_SECONDS", 3600),
    trashRetentionDays: int(env, "TRASH_RETENTION_DAYS", 30),
    maxWatchesPerUser: int(env, "FILE_MAX_WATCHES_PER_USER", 16),
    versionsMaxDays: int(env, "VERSIONS_MAX_DAYS", 30),
    quotaRecountSeconds: int(env, "QUOTA_RECOUNT_SECONDS", 3600),
    storageGaugeSeconds: Math.max(1, int(env, "STORAGE_GAUGE_SECONDS", 60)),
    fsckGraceSeconds: int(env, "FSCK_GRACE_SECONDS", 86_400),
    fsckIntervalHours: int(env, "FSCK_INTERVAL_HOURS", 0),
    scrubBytesPerHour: int(env, "SCRUB_BYTES_PER_HOUR", 0),
    thumbnails: {
      sweepSeconds: int(env, "THUMBNAIL_SWEEP_SECONDS", 5),
      concurrency: int(env, "THUMBNAIL_CONCURRENCY", 1),
      maxInputBytes: int(env, "THUMBNAIL_MAX_INPUT_BYTES", 64 * 1024 * 1024),
      maxInputPixels: int(env, "THUMBNAIL_MAX_INPUT_PIXELS", 50_000_000),
      maxVideoBytes: int(env, "THUMBNAIL_MAX_VIDEO_BYTES", 1024 * 1024 * 1024),
      timeoutSeconds: int(env, "THUMBNAIL_TIMEOUT_SECONDS", 30),
      ffmpeg: ffmpegFrom(env),
    },
  };
}
