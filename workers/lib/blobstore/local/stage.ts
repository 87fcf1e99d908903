// Staging a body in a local store: written to tmp/ while digest lanes hash it, renamed into blobs/ on
// commit, and then its bytes and its name synced side by side.
import { randomUUID } from "node:crypto";
import { closeSync, openSync, renameSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Meter, normalizeStageOptions } from "../common.ts";
import { type Algorithm, digestFile, INLINE_DIGEST_BYTES, inlineDigest } from "../digest.ts";
import { BlobStoreError, InvalidArgumentError } from "../errors.ts";
import type { BlobBody, BlobInfo, StagedBlob, StageOptions } from "../types.ts";
import { type Flush, fsyncPath, makeDir, SYNC_EVERY, syncFd, syncPathNow, writeBody } from "./durable.ts";
import { type Layout, newLocalLocation } from "./layout.ts";

/** A body's own file, synced alone (write-behind where the system has it: see LocalBlobStoreOptions). */
export const syncedAlone = (fd: number, writeBehind: boolean): Flush => ({
  writeBehind,
  every: SYNC_EVERY,
  run: () => syncFd(fd, true),
});

/**
 * A staged blob whose bytes `place(dest)` puts under their final name in `root`; then the name (and the
 * names of any directories made for it) and, when `syncBytes`, the bytes are synced side by side: one
 * wait for the disk rather than two in a row (a crash before both are done can leave a name with partial
 * bytes, which no row names: an orphan fsck removes). `discarded` runs on discard, `committed` once the
 * bytes are in place.
 */
export function stagedBlob(
  root: string,
  info: BlobInfo,
  place: (dest: string) => Promise<void>,
  discarded: () => Promise<void>,
  opts: { syncBytes: boolean; committed?: () => void },
): StagedBlob {
  let committing: Promise<string> | undefined;
  let dropped = false;
  const commit = async (): Promise<string> => {
    const location = newLocalLocation(info.sha256);
    const dest = join(root, location);
    const dir = dirname(dest);
    const made = makeDir(dir);
    await place(dest);
    try {
      await Promise.all([
        ...[dir, ...made].map(fsyncPath),
        ...(opts.syncBytes ? [syncPathNow(dest, true)] : []),
      ]);
    } catch (err) {
      // Not durable: no location is handed out, so nothing would ever name (or remove) these bytes.
      await rm(dest, { force: true }).catch(() => undefined);
      throw err;
    }
    opts.committed?.();
    return location;
  };
  return {
    ...info,
    commit() {
      if (dropped) return Promise.reject(new BlobStoreError("the staged blob was discarded"));
      committing ??= commit().catch((err) => {
        committing = undefined;
        throw err;
      });
      return committing;
    },
    async discard() {
      if (committing) return;
      dropped = true;
      await discarded();
    },
  };
}

/**
 * Writes a body to tmp/ while digest lanes hash it (its bytes start going to disk as they arrive; commit
 * waits for them). On any failure nothing is left.
 */
async function writeTemp(
  tmpDir: string,
  writeBehind: boolean,
  body: BlobBody,
  opts: StageOptions,
): Promise<{ path: string; info: BlobInfo }> {
  const path = join(tmpDir, randomUUID());
  const fd = openSync(path, "wx");
  const meter = new Meter(opts, false);
  const algorithms: Algorithm[] =
    opts.skipSha1 && !opts.expectedSha1 ? ["sha256", "crc32"] : ["sha256", "sha1", "crc32"];
  const small = opts.expectedSize !== undefined && opts.expectedSize <= INLINE_DIGEST_BYTES;
  const digest = small ? inlineDigest(algorithms) : digestFile(path, algorithms);
  try {
    await writeBody(fd, 0, body, meter, digest, syncedAlone(fd, writeBehind));
    const hashes = await digest.finish(meter.size);
    const info = meter.finish({ sha256: hashes.sha256 ?? "", sha1: hashes.sha1 ?? "", crc32: hashes.crc32 });
    return { path, info };
  } catch (err) {
    digest.cancel();
    await rm(path, { force: true });
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** BlobStore.stage of the local store: commit renames the body's tmp/ file into place, discard removes it. */
export async function stageLocal(
  layout: Layout,
  writeBehind: boolean,
  body: BlobBody,
  opts?: StageOptions,
): Promise<StagedBlob> {
  if (opts?.location !== undefined)
    throw new InvalidArgumentError("the local store names its blobs itself: no location option");
  const { path, info } = await writeTemp(layout.tmpDir, writeBehind, body, normalizeStageOptions(opts));
  return stagedBlob(
    layout.root,
    info,
    // A metadata call that does not wait for the disk: made here rather than queued in the thread pool.
    async (dest) => renameSync(path, dest),
    () => rm(path, { force: true }),
    // A new file: fdatasync writes what reading it back needs (its size and blocks), not its times.
    { syncBytes: true },
  );
}
