// The file worker's settings: garbage collection and watch streams.
import { type Env, int } from "../lib/config.ts";

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
  /** While someone watches (FileService.WatchFiles), how often changes made by other processes are looked for. */
  watchCheckSeconds: number;
  /** WatchFiles streams one user may hold open in one file-service process (FILE_MAX_WATCHES_PER_USER; 0: no cap). */
  maxWatchesPerUser: number;
}

export function loadFileConfig(env: Env): FileConfig {
  return {
    gcIntervalSeconds: int(env, "GC_INTERVAL_SECONDS", 600),
    gcGraceSeconds: int(env, "GC_GRACE_SECONDS", 3600),
    trashRetentionDays: int(env, "TRASH_RETENTION_DAYS", 30),
    watchCheckSeconds: int(env, "WATCH_CHECK_SECONDS", 2),
    maxWatchesPerUser: int(env, "FILE_MAX_WATCHES_PER_USER", 16),
  };
}
