// The consistency checker (fsck): reconciles the database with the blob stores both ways. It runs here, on
// the file worker, because the stores are here (as for GC); meta answers the database's side
// (IntegrityService, QuotaService.RecountUsage). Three walks, each in pages so that memory stays flat:
// 1. blob rows (by SHA-256): their bytes must be on their backend with the recorded size (missing ones are
//    reported with the files they break), and their reference counts must match the file and version
//    tables (meta recounts; with repair it corrects them);
// 2. each backend's objects: bytes no blob row, thumbnail or transfer job names are orphans (a crash
//    between the write and the row, a lost delete); objects younger than the grace period are skipped, so
//    nothing an upload or a transfer could still claim is touched; with repair the orphans are deleted;
// 3. stuck work (fsck-stuck.ts): sessions, transfer jobs and deletions whose deadline passed more than the
//    grace period ago, cleaned up by their own sweepers' functions with repair;
// 4. every user's usage counters recounted from the tables (meta's recount; a dry run writes nothing);
// 5. with scrub (fsck-scrub.ts), every blob's bytes re-hashed at a bounded rate.
// Without repair nothing is written anywhere.
import type { StoreFor } from "../lib/blobstore/types.ts";
import { canList } from "../lib/blobstore/types.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { FsckMetrics } from "../lib/metrics/fsck.ts";
import { add, emptyReport, type FsckReport, ITEMS_KEPT, type MissingBlob } from "./fsck-report.ts";
import { scrub } from "./fsck-scrub.ts";
import { checkStuck } from "./fsck-stuck.ts";

export interface FsckDeps {
  /** Meta (the stuck-work phase's repair uses the sweepers' calls: sessions, GC, transfer jobs). */
  meta: MetaClient;
  storeFor: StoreFor;
  /** The backends this worker has stores for (their objects are walked). */
  backends: readonly string[];
  /** Objects changed more recently than this (ms) are not judged. */
  graceMs: number;
  now?: () => number;
  /** The scrub's pace when the caller names none (SCRUB_BYTES_PER_HOUR; 0: unbounded). */
  scrubBytesPerHour?: number;
  /** The scrub's pauses (tests: none). */
  sleep?: (ms: number) => Promise<void>;
  log?: Logger;
  /** Rows and objects per page. */
  batch?: number;
  /** Each check's findings by kind (workers/lib/metrics/fsck.ts); none in most tests. */
  metrics?: FsckMetrics;
}

export type FsckPhase = "blobs" | "stuck" | "objects" | "usage" | "scrub" | "done";

export interface FsckProgress {
  phase: FsckPhase;
  /** Blob rows, objects or users looked at so far in this phase. */
  checked: number;
}

export interface FsckOptions {
  repair?: boolean;
  /** Re-hash every blob's bytes too, reading at most this many bytes per hour (0: unbounded). */
  scrub?: { bytesPerHour: number };
  onProgress?: (p: FsckProgress) => void;
  signal?: AbortSignal;
}

/** Blobs statted at once. */
const STAT_CONCURRENCY = 8;

export async function runFsck(deps: FsckDeps, opts: FsckOptions = {}): Promise<FsckReport> {
  const report = emptyReport(opts.repair ?? false);
  await checkBlobs(deps, report, opts);
  await checkStuck(deps, report, opts);
  await checkObjects(deps, report, opts);
  await checkUsage(deps, report, opts);
  if (opts.scrub) await scrub(deps, report, opts, opts.scrub.bytesPerHour);
  opts.onProgress?.({ phase: "done", checked: 0 });
  deps.metrics?.checked(report.repair, {
    missing: report.missing,
    wrong_size: report.wrongSize,
    orphans: report.orphans,
    refcount_drift: report.refcountDrifts,
    usage_drift: report.usageDrifts,
    stuck_sessions: report.stuckSessions,
    stuck_transfers: report.stuckTransfers,
    pending_deletions: report.pendingDeletions,
    ...(report.scrubbed ? { corrupt: report.corrupt } : {}),
  });
  return report;
}

/** The size of a blob's bytes on its backend, undefined when absent, "unavailable" for an unknown backend. */
async function sizeOnBackend(deps: FsckDeps, backend: string, location: string) {
  let store: ReturnType<StoreFor>;
  try {
    store = deps.storeFor(backend);
  } catch {
    return "unavailable" as const;
  }
  return (await store.stat(location))?.size;
}

async function checkBlobs(deps: FsckDeps, report: FsckReport, opts: FsckOptions): Promise<void> {
  const batch = deps.batch ?? 200;
  for (let after = ""; ; ) {
    opts.signal?.throwIfAborted();
    const { blobs } = await deps.meta.checkBlobs({ afterSha256: after, limit: batch, repair: report.repair });
    for (let i = 0; i < blobs.length; i += STAT_CONCURRENCY) {
      const slice = blobs.slice(i, i + STAT_CONCURRENCY);
      const sizes = await Promise.all(slice.map((b) => sizeOnBackend(deps, b.backend, b.location)));
      for (const [k, b] of slice.entries()) {
        const found = sizes[k];
        const size = Number(b.size);
        if (found === "unavailable") report.blobsOnUnavailableBackends++;
        else if (found !== size) {
          const tally = found === undefined ? report.missing : report.wrongSize;
          const item: MissingBlob = {
            sha256: b.sha256,
            backend: b.backend,
            location: b.location,
            size,
            files: [],
          };
          if (found !== undefined) item.foundSize = found;
          if (tally.items.length < ITEMS_KEPT) item.files = await references(deps, b.sha256);
          add(tally, item, size);
        }
        if (b.refcount !== b.countedRefs)
          add(report.refcountDrifts, {
            sha256: b.sha256,
            stored: Number(b.refcount),
            counted: Number(b.countedRefs),
            repaired: b.repaired,
          });
      }
    }
    report.blobsChecked += blobs.length;
    opts.onProgress?.({ phase: "blobs", checked: report.blobsChecked });
    if (blobs.length < batch) return;
    after = blobs.at(-1)?.sha256 ?? "";
  }
}

export async function references(deps: FsckDeps, sha256: string) {
  const { references } = await deps.meta.listBlobReferences({ sha256, limit: 20 });
  return references.map((r) => ({
    ownerId: r.ownerId,
    username: r.username,
    fileId: r.fileId,
    name: r.name,
    version: r.version,
  }));
}

async function checkObjects(deps: FsckDeps, report: FsckReport, opts: FsckOptions): Promise<void> {
  const batch = Math.min(deps.batch ?? 500, 1000);
  const youngAfter = (deps.now ?? Date.now)() - deps.graceMs;
  for (const backend of deps.backends) {
    const store = deps.storeFor(backend);
    if (!canList(store)) continue;
    let page: { location: string; size: number; changedAt: number }[] = [];
    const flush = async () => {
      opts.signal?.throwIfAborted();
      const { unknown } = await deps.meta.findUnknownLocations({
        backend,
        locations: page.map((o) => o.location),
      });
      const orphans = new Set(unknown);
      for (const o of page.filter((p) => orphans.has(p.location))) {
        let deleted = false;
        if (report.repair) {
          try {
            await store.delete(o.location);
            deleted = true;
            report.orphansDeleted++;
            deps.log?.info("fsck: orphan bytes deleted", { backend, location: o.location, size: o.size });
          } catch (err) {
            report.orphanDeleteFailures++;
            deps.log?.warn("fsck: deleting orphan bytes failed", {
              backend,
              location: o.location,
              err: String(err),
            });
          }
        }
        add(report.orphans, { backend, ...o, deleted }, o.size);
      }
      page = [];
      opts.onProgress?.({ phase: "objects", checked: report.objectsListed });
    };
    for await (const o of store.listObjects()) {
      report.objectsListed++;
      if (o.changedAt > youngAfter) report.youngObjectsSkipped++;
      else page.push(o);
      if (page.length >= batch) await flush();
    }
    if (page.length > 0) await flush();
  }
}

async function checkUsage(deps: FsckDeps, report: FsckReport, opts: FsckOptions): Promise<void> {
  const batch = deps.batch ?? 200;
  for (let after = ""; ; ) {
    opts.signal?.throwIfAborted();
    const page = await deps.meta.recountUsage({ afterUserId: after, limit: batch, dryRun: !report.repair });
    for (const d of page.drifts)
      add(report.usageDrifts, {
        userId: d.userId,
        usedBefore: Number(d.usedBefore),
        usedAfter: Number(d.usedAfter),
        reservedBefore: Number(d.reservedBefore),
        reservedAfter: Number(d.reservedAfter),
        repaired: report.repair,
      });
    report.usersChecked += page.checked;
    opts.onProgress?.({ phase: "usage", checked: report.usersChecked });
    if (page.checked < batch || !page.lastUserId) return;
    after = page.lastUserId;
  }
}
