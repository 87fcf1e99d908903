// The file worker's periodic consistency check (FSCK_INTERVAL_HOURS; 0: none): a dry run — it changes
// nothing — whose findings go to the log (one line with the counts, a warning when it is not clean) and to
// the filestore_fsck_* metrics, with a scrub when SCRUB_BYTES_PER_HOUR is set. One replica at a time: the
// run takes meta's maintenance lease "fsck" for one interval and renews it while it works; the lease is
// kept after the run, so the other replicas skip their ticks until the interval has passed.
import type { Logger } from "../lib/log.ts";
import { every } from "../lib/periodic.ts";
import { type FsckDeps, runFsck } from "./fsck.ts";
import { type FsckReport, isClean, stuckCount } from "./fsck-report.ts";

export const FSCK_LEASE = "fsck";

/** A report's counts, for the log line. */
export const reportCounts = (r: FsckReport) => ({
  blobs: r.blobsChecked,
  objects: r.objectsListed,
  missing: r.missing.count,
  wrongSize: r.wrongSize.count,
  orphans: r.orphans.count,
  orphanBytes: r.orphans.bytes,
  refcountDrifts: r.refcountDrifts.count,
  usageDrifts: r.usageDrifts.count,
  stuck: stuckCount(r),
  ...(r.scrubbed ? { scrubbedBytes: r.scrubbedBytes, corrupt: r.corrupt.count } : {}),
});

/**
 * One periodic run, if this process gets the lease (`holder`: its random id); the report, or undefined
 * when another replica holds it.
 */
export async function periodicFsck(
  deps: FsckDeps,
  holder: string,
  intervalMs: number,
  log: Logger,
): Promise<FsckReport | undefined> {
  const lease = { name: FSCK_LEASE, holder, ttlMs: BigInt(intervalMs) };
  if (!(await deps.meta.takeMaintenanceLease(lease)).taken) return undefined;
  // Renewed while the check runs, so that a check longer than the interval is not started twice.
  const renew = setInterval(
    () => {
      deps.meta.takeMaintenanceLease(lease).catch(() => undefined);
    },
    Math.max(1000, Math.floor(intervalMs / 3)),
  );
  renew.unref?.();
  try {
    const bytesPerHour = deps.scrubBytesPerHour ?? 0;
    const report = await runFsck(deps, bytesPerHour > 0 ? { scrub: { bytesPerHour } } : {});
    const clean = isClean(report);
    deps.metrics?.periodic(clean, (deps.now ?? Date.now)());
    if (clean) log.info("periodic consistency check: clean", reportCounts(report));
    else log.warn("periodic consistency check found problems (filestore admin fsck)", reportCounts(report));
    return report;
  } finally {
    clearInterval(renew);
  }
}

/** Runs periodicFsck every `hours` (0: never); returns a stop function. */
export function startPeriodicFsck(deps: FsckDeps, hours: number, log: Logger): () => void {
  const holder = crypto.randomUUID();
  const intervalMs = hours * 3_600_000;
  return every(hours * 3600, "periodic consistency check", log, async () => {
    await periodicFsck(deps, holder, intervalMs, log);
  });
}
