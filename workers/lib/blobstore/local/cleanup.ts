// Removing files from a local store: large ones in the background, and the sweep of tmp/ (crash leftovers
// and interrupted background removals).
import { randomUUID } from "node:crypto";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound } from "./durable.ts";

/**
 * A file at least this large is removed in the background (renamed into tmp/ first, so its name is gone
 * at once): freeing a GiB of blocks (and trimming them, on a disk mounted with `discard`) takes a
 * quarter of a second here, which an answer (a completed upload whose content was known already) should
 * not wait for. A crash in between leaves it in tmp/, which the tmp sweep empties.
 */
const BACKGROUND_REMOVE_BYTES = 64 << 20;

/** Files being removed in the background (removeFile): a sweep takes them whatever their age. */
const REMOVED = "removed-";

/**
 * Removes files in `dir` not modified for `maxAgeMs`, and background removals a crash interrupted;
 * returns how many. Errors on single files are skipped.
 */
export async function sweepOldFiles(dir: string, maxAgeMs: number): Promise<number> {
  let removed = 0;
  const cutoff = Date.now() - maxAgeMs;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    try {
      if (name.startsWith(REMOVED) || (await stat(path)).mtimeMs < cutoff) {
        await rm(path, { force: true, recursive: true });
        removed++;
      }
    } catch {
      // Gone meanwhile (finished, or removed by another replica's sweep).
    }
  }
  return removed;
}

/** Removes a file (absent: nothing to do); a large one with a single name, in the background via `tmpDir`. */
export async function removeFile(tmpDir: string, path: string): Promise<void> {
  let st: { size: number; nlink: number };
  try {
    st = await stat(path);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (st.size < BACKGROUND_REMOVE_BYTES || st.nlink > 1) return rm(path, { force: true });
  const doomed = join(tmpDir, `${REMOVED}${randomUUID()}`);
  try {
    await rename(path, doomed);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  void rm(doomed, { force: true }).catch(() => undefined); // else the tmp sweep
}
