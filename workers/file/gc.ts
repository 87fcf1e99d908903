// Garbage collection of content no file references any more. Purging the last reference stamps the blob
// row (refcount 0, unreferenced_at); after the grace period a pass claims it (state "deleting": from then
// on it is never linked again, and an upload of the same content takes the row over with its own copy),
// deletes the bytes at the claimed location from the blob's backend, then forgets the row if it still
// names that location. A pass that dies mid-way leaves claims that a later pass takes up again.
// Each pass first repairs orphans (TreeService.RepairOrphans: active entries whose folder is gone move to
// the trash, whose purge then frees their content like any other), logging each repair as one line, and
// applies the version retention (TreeService.PruneVersions: versions older than VERSIONS_MAX_DAYS, and
// past VERSIONS_KEEP), whose released content the same pass can then collect.

import { WatchFilesResponse_Change as Change } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { StoreFor } from "../lib/blobstore/types.ts";
import { publicFile } from "../lib/file-record.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { GcMetrics } from "../lib/metrics/gc.ts";
import { every } from "../lib/periodic.ts";
import type { OnChange, OnUnreferenced } from "./files.ts";

export interface GcDeps {
  meta: MetaClient;
  /** The store of each backend a blob row may name. */
  storeFor: StoreFor;
  /** How long unreferenced content is kept (ms); meta's clock decides what is older. */
  graceMs: number;
  /** Trash entries deleted longer ago than this are purged by each pass (ms; 0 or unset: never). */
  trashRetentionMs?: number;
  /** Told about each trash entry the retention purges (WatchFiles: DELETED, as PurgeFile reports). */
  onChange?: OnChange;
  /** Told about content whose last reference the retention purge dropped (topic "blobs"). */
  onUnreferenced?: OnUnreferenced;
  /** Blobs claimed per round. */
  batch?: number;
  /** Versions archived longer ago than this (ms) are dropped (VERSIONS_MAX_DAYS); unset: none by age. */
  versionsMaxAgeMs?: number;
  log?: Logger;
  /** Passes and failures by task, blobs and bytes freed (workers/lib/metrics/gc.ts); none in most tests. */
  metrics?: GcMetrics;
}

export interface GcResult {
  deleted: number;
  failed: number;
}

/** Bounds one pass (batch × rounds blobs, or orphans); the rest waits for the next. */
const MAX_ROUNDS = 100;

/** Moves orphaned entries to the trash (see TreeService.RepairOrphans); returns how many rows moved. */
export async function repairOrphans(deps: GcDeps): Promise<number> {
  const batch = deps.batch ?? 100;
  let trashed = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { repairs, found } = await deps.meta.repairOrphans({ limit: batch });
    for (const r of repairs) {
      trashed += r.count;
      deps.log?.info("orphaned entries moved to the trash", {
        ownerId: r.ownerId,
        id: r.id,
        formerParentId: r.formerParentId,
        trashEntryId: r.trashEntryId,
        count: r.count,
      });
    }
    if (found < batch) break;
  }
  return trashed;
}

/** Drops versions past their retention (see TreeService.PruneVersions); returns how many went. */
export async function pruneVersions(deps: GcDeps): Promise<number> {
  // Without an age limit, a very large one still trims files past VERSIONS_KEEP.
  const maxAgeMs = BigInt(deps.versionsMaxAgeMs ?? Number.MAX_SAFE_INTEGER);
  const batch = deps.batch ?? 100;
  let dropped = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const res = await deps.meta.pruneVersions({ maxAgeMs, limit: batch });
    dropped += res.dropped;
    if (res.dropped < batch) break;
  }
  if (dropped > 0) deps.log?.info("versions past their retention dropped", { count: dropped });
  return dropped;
}

/** Purges trash entries older than the retention (TRASH_RETENTION_DAYS); returns how many. */
export async function purgeExpiredTrash(deps: GcDeps): Promise<number> {
  if (!deps.trashRetentionMs || deps.trashRetentionMs <= 0) return 0;
  const batch = deps.batch ?? 100;
  let purged = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { count, files, unreferencedSha256s } = await deps.meta.purgeExpiredTrash({
      retentionMs: BigInt(deps.trashRetentionMs),
      limit: batch,
    });
    for (const f of files) deps.onChange?.(f.ownerId, Change.DELETED, publicFile(f), "purge");
    deps.onUnreferenced?.(unreferencedSha256s);
    purged += count;
    if (count < batch) break;
  }
  if (purged > 0) deps.log?.info("expired trash entries purged", { count: purged });
  return purged;
}

/**
 * One garbage-collection pass: orphans to the trash, expired trash entries purged, versions past their
 * retention dropped (a failure of any is logged), then content — including what the purge just released,
 * once its grace period is over — then the thumbnails of content that is gone (logged too).
 */
export async function runGcPass(deps: GcDeps): Promise<GcResult> {
  // Content collection does not depend on the first three; the next pass tries again.
  await gcTask(deps, "orphans", "orphan repair", () => repairOrphans(deps));
  await gcTask(deps, "trash", "purging expired trash", () => purgeExpiredTrash(deps));
  await gcTask(deps, "versions", "version retention", () => pruneVersions(deps));
  let result: GcResult;
  try {
    result = await collectGarbage(deps);
  } catch (err) {
    deps.metrics?.run("blobs", false);
    throw err;
  }
  deps.metrics?.run("blobs", result.failed === 0);
  await gcTask(deps, "thumbnails", "collecting thumbnails", async () => {
    const derived = await collectDerived(deps);
    if (derived > 0) deps.log?.info("thumbnails of collected content deleted", { count: derived });
  });
  return result;
}

/** Runs one task of a pass: counted, and a failure logged rather than thrown. */
async function gcTask(deps: GcDeps, task: string, what: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    deps.metrics?.run(task, true);
  } catch (err) {
    deps.metrics?.run(task, false);
    deps.log?.warn(`${what} failed`, { err: String(err) });
  }
}

/**
 * Deletes the derived blobs (thumbnails) of content that is no longer ready, then their rows; returns how
 * many. A row whose bytes could not be deleted stays for the next pass.
 */
export async function collectDerived(deps: GcDeps): Promise<number> {
  const batch = deps.batch ?? 100;
  let deleted = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { records } = await deps.meta.listOrphanedDerived({ limit: batch });
    let forgotten = 0;
    for (const r of records) {
      try {
        if (r.state === "ready") await deps.storeFor(r.backend).delete(r.location);
        await deps.meta.forgetDerived({ sha256: r.sha256, kind: r.kind, location: r.location });
        deleted++;
        forgotten++;
      } catch (err) {
        deps.log?.warn("deleting a thumbnail failed", { sha256: r.sha256, kind: r.kind, err: String(err) });
      }
    }
    // A full page that could not be forgotten would come back as it is: stop until the next pass.
    if (records.length < batch || forgotten === 0) break;
  }
  return deleted;
}

export async function collectGarbage(deps: GcDeps): Promise<GcResult> {
  const batch = deps.batch ?? 100;
  const result: GcResult = { deleted: 0, failed: 0 };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { blobs } = await deps.meta.claimGarbage({ graceMs: BigInt(deps.graceMs), limit: batch });
    for (const b of blobs) {
      try {
        await deps.storeFor(b.backend).delete(b.location);
        await deps.meta.forgetBlob({ sha256: b.sha256, location: b.location });
        result.deleted++;
        deps.metrics?.freed(1, Number(b.size));
      } catch (err) {
        // The claim stays; a later pass hands it out again (ClaimGarbage's stale-claim period).
        result.failed++;
        deps.log?.warn("garbage collection of a blob failed", {
          sha256: b.sha256,
          backend: b.backend,
          err: String(err),
        });
      }
    }
    if (blobs.length < batch) break;
  }
  return result;
}

/** Runs collectGarbage every `seconds` (0: never); returns a stop function. */
export function startGarbageCollector(deps: GcDeps, seconds: number, log: Logger): () => void {
  return every(seconds, "garbage collection pass", log, async () => {
    const r = await runGcPass(deps);
    if (r.deleted > 0 || r.failed > 0) log.info("garbage collection", { ...r });
  });
}
