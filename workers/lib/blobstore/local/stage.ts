// Staging a body in a local store: written to tmp/ while digest lanes hash it, fsync'ed, and renamed
// into blobs/ on commit (the directory made durable around it).
import { randomUUID } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Meter, normalizeStageOptions } from "../common.ts";
import { type Algorithm, digestFile, INLINE_DIGEST_BYTES, inlineDigest } from "../digest.ts";
import { BlobStoreError, InvalidArgumentError } from "../errors.ts";
import type { BlobBody, BlobInfo, StagedBlob, StageOptions } from "../types.ts";
import { type Flush, fsyncPath, makeDirDurable, SYNC_EVERY, syncFd, writeBody } from "./durable.ts";
import { type Layout, newLocalLocation } from "./layout.ts";

/** A body's own file, synced alone (write-behind where the system has it: see LocalBlobStoreOptions). */
export const syncedAlone = (fd: number, writeBehind: boolean): Flush => ({
  writeBehind,
  every: SYNC_EVERY,
  run: () => syncFd(fd, true),
});

/**
 * A staged blob whose bytes `place(dest)` puts under their final name in `root` (the directory is made
 * durable around it); `discarded` runs on discard, `committed` once the bytes are in place.
 */
export function stagedBlob(
  root: string,
  info: BlobInfo,
  place: (dest: string) => Promise<void>,
  discarded: () => Promise<void>,
  committed: () => void = () => undefined,
): StagedBlob {
  let committing: Promise<string> | undefined;
  let dropped = false;
  const commit = async (): Promise<string> => {
    const location = newLocalLocation(info.sha256);
    const dest = join(root, location);
    await makeDirDurable(dirname(dest));
    await place(dest);
    await fsyncPath(dirname(dest));
    committed();
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

/** Writes a body to tmp/ while digest lanes hash it, then fsyncs it. On any failure nothing is left. */
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
    await syncFd(fd, false);
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
    (dest) => rename(path, dest),
    () => rm(path, { force: true }),
  );
}
