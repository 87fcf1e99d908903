// The scrub (fsck.ts with scrub): every ready blob's bytes read back and re-hashed, at a bounded rate
// (SCRUB_BYTES_PER_HOUR, or the CLI's --scrub-rate), so that bit rot or a replaced object is found while
// the content is still wanted. A blob whose bytes no longer hash to its SHA-256 is reported with the files
// it breaks; with repair, a second copy that hashes right (a transfer's copy: its target on S3, or the
// local copy a move leaves for its grace period) is written back as the blob's bytes (fsck-restore.ts).
import type { StoreFor } from "../lib/blobstore/types.ts";
import type { FsckDeps, FsckOptions } from "./fsck.ts";
import { references } from "./fsck.ts";
import { hashStored } from "./fsck-hash.ts";
import { add, type CorruptBlob, type FsckReport, ITEMS_KEPT } from "./fsck-report.ts";
import { restoreFromCopy } from "./fsck-restore.ts";

/** Blob rows per page. */
const BATCH = 100;

/**
 * How long to wait before reading on, so that `bytesRead` bytes since `startedAt` stay within
 * `bytesPerHour` (0: never wait).
 */
export function pauseMs(bytesRead: number, elapsedMs: number, bytesPerHour: number): number {
  if (bytesPerHour <= 0) return 0;
  const due = (bytesRead / bytesPerHour) * 3_600_000;
  return Math.max(0, Math.ceil(due - elapsedMs));
}

function hasStore(storeFor: StoreFor, backend: string): boolean {
  try {
    storeFor(backend);
    return true;
  } catch {
    return false;
  }
}

export async function scrub(
  deps: FsckDeps,
  report: FsckReport,
  opts: FsckOptions,
  bytesPerHour: number,
): Promise<void> {
  report.scrubbed = true;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => Bun.sleep(ms));
  const startedAt = now();
  for (let after = ""; ; ) {
    opts.signal?.throwIfAborted();
    const { blobs } = await deps.meta.checkBlobs({ afterSha256: after, limit: BATCH, repair: false });
    for (const b of blobs) {
      opts.signal?.throwIfAborted();
      if (!hasStore(deps.storeFor, b.backend)) continue;
      // Missing bytes are the blob walk's finding; a read that fails here is left to the next scrub.
      const found = await hashStored(deps.storeFor, b.backend, b.location).catch(() => undefined);
      if (!found) continue;
      report.scrubbedBlobs++;
      report.scrubbedBytes += found.size;
      deps.metrics?.scrubbed(found.size);
      if (found.sha256 !== b.sha256)
        await corrupt(deps, report, { ...b, size: Number(b.size) }, found.sha256);
      const wait = pauseMs(report.scrubbedBytes, now() - startedAt, bytesPerHour);
      if (wait > 0) await sleep(wait);
    }
    opts.onProgress?.({ phase: "scrub", checked: report.scrubbedBlobs });
    if (blobs.length < BATCH) return;
    after = blobs.at(-1)?.sha256 ?? "";
  }
}

async function corrupt(
  deps: FsckDeps,
  report: FsckReport,
  b: { sha256: string; backend: string; location: string; size: number },
  foundSha256: string,
): Promise<void> {
  const item: CorruptBlob = { ...b, foundSha256, files: [], repaired: false, repairedFrom: "" };
  if (report.corrupt.items.length < ITEMS_KEPT) item.files = await references(deps, b.sha256);
  deps.log?.warn("fsck: stored content no longer matches its SHA-256", {
    sha256: b.sha256,
    backend: b.backend,
    location: b.location,
    found: foundSha256,
  });
  if (report.repair) {
    const from = await restoreFromCopy(deps, b).catch((err) => {
      deps.log?.warn("fsck: restoring content from a second copy failed", {
        sha256: b.sha256,
        err: String(err),
      });
      return undefined;
    });
    if (from) {
      item.repaired = true;
      item.repairedFrom = from;
      report.corruptRepaired++;
    }
  }
  add(report.corrupt, item, b.size);
}
