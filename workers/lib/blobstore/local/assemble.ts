// Reading, assembling and removing a multipart session's parts (local store). Assembly holds the session's
// lock alone: the session's file becomes the blob (commit links it into blobs/, each name recorded first
// in links.ts), hashed as far as the whole-file hash that followed the parts did not get.
import { closeSync, fstatSync, ftruncateSync, openSync } from "node:fs";
import { link, rm } from "node:fs/promises";
import { relative } from "node:path";
import { checkPartCount, checkPartNumber, checkSessionId } from "../common.ts";
import { type Algorithm, digestFile } from "../digest.ts";
import { BlobNotFoundError, BlobStoreError, MissingPartError } from "../errors.ts";
import { crc32Value } from "../hashers.ts";
import type { BlobInfo, StagedBlob } from "../types.ts";
import { removeFile } from "./cleanup.ts";
import { isNotFound, lockedFile, syncFd } from "./durable.ts";
import type { Layout } from "./layout.ts";
import { recordLink, removeRecordedLinks } from "./links.ts";
import type { PartsContext } from "./part-write.ts";
import { type PartRecord, readRecords } from "./records.ts";
import type { SessionHashes } from "./session-hash.ts";
import { wholeFileAlgorithms } from "./session-hash.ts";
import { stagedBlob } from "./stage.ts";

/** What assembleParts did (for tests and metrics). */
export interface AssembleEvent {
  sessionId: string;
  /** The whole-file hash computed while parts arrived was used (else the whole file was read). */
  incremental: boolean;
  /** Parts read at completion: those not hashed yet, or all of them. */
  partsRead: number;
}

export async function listLocalParts(
  layout: Layout,
  sessionId: string,
): Promise<{ partNumber: number; size: number }[]> {
  checkSessionId(sessionId);
  const parts: { partNumber: number; size: number }[] = [];
  for (const [i, r] of (await readRecords(layout.recordsPath(sessionId))).entries())
    if (r) parts.push({ partNumber: i + 1, size: r.size });
  return parts;
}

export async function readLocalPart(
  layout: Layout,
  sessionId: string,
  partNumber: number,
): Promise<AsyncIterable<Uint8Array>> {
  checkSessionId(sessionId);
  checkPartNumber(partNumber);
  const r = (await readRecords(layout.recordsPath(sessionId)))[partNumber - 1];
  if (!r) throw new BlobNotFoundError();
  return Bun.file(layout.dataPath(sessionId))
    .slice(r.offset, r.offset + r.size)
    .stream() as unknown as AsyncIterable<Uint8Array>;
}

/**
 * A session's file as a staged blob, while `lock` (the session's, held alone) keeps part writers out:
 * commit links the file into blobs/ (the parts stay until deleteParts, so a failure after commit can
 * complete again), discard keeps it; both release the lock.
 */
function stagedSession(layout: Layout, sessionId: string, lock: number, info: BlobInfo): StagedBlob {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    closeSync(lock);
  };
  return stagedBlob(
    layout.root,
    info,
    async (dest) => {
      await recordLink(layout.linksPath(sessionId), relative(layout.root, dest));
      await link(layout.dataPath(sessionId), dest);
    },
    async () => release(),
    // The session's file is durable already (each part was synced before its record).
    { syncBytes: false, committed: release },
  );
}

/** The session's lock, held alone; MissingPartError (every part) when no part was ever stored. */
function lockForAssembly(layout: Layout, sessionId: string, all: number[]): number {
  try {
    return lockedFile(
      layout.lockPath(sessionId),
      "exclusive",
      "parts of this session are still being uploaded: complete it once every part has been answered",
    ).fd;
  } catch (err) {
    if (isNotFound(err)) throw new MissingPartError(all); // no part was ever stored
    throw err;
  }
}

/** Parts 1..partCount's records, each starting where the one before ends; and their total size. */
async function contiguousParts(
  layout: Layout,
  sessionId: string,
  all: number[],
): Promise<{ parts: PartRecord[]; total: number }> {
  const records = (await readRecords(layout.recordsPath(sessionId))).slice(0, all.length);
  const missing = all.filter((n) => !records[n - 1]);
  if (missing.length > 0) throw new MissingPartError(missing);
  const parts = records as PartRecord[];
  let total = 0;
  for (const [i, r] of parts.entries()) {
    if (r.offset !== total)
      throw new BlobStoreError(`part ${i + 1} does not start where the parts before it end: send it again`);
    total += r.size;
  }
  return { parts, total };
}

/** Cuts the session's file to `total` bytes (parts beyond the count, say), unless it is a blob already. */
async function trimSessionFile(path: string, total: number): Promise<void> {
  const fd = openSync(path, "r+");
  try {
    const { size, nlink } = fstatSync(fd);
    if (size < total)
      throw new BlobStoreError("the session's file is shorter than its parts: send them again");
    if (size > total) {
      // Bytes past the last part (parts beyond the session's count, say) are not content; but a file
      // that is a blob already (nlink > 1) is never changed.
      if (nlink > 1) throw new BlobStoreError("the session's file holds more than its parts");
      ftruncateSync(fd, total);
      await syncFd(fd, true);
    }
  } finally {
    closeSync(fd);
  }
}

/** The whole file's hashes: the hash that followed the parts, finished, when it still matches them. */
async function wholeFileHashes(
  hashes: SessionHashes,
  path: string,
  sessionId: string,
  parts: PartRecord[],
  total: number,
  withSha1: boolean,
): Promise<{ result: Partial<Record<Algorithm, string>>; held: number }> {
  const h = hashes.take(sessionId); // finished below, or cancelled
  let result: Partial<Record<Algorithm, string>> | undefined;
  let held = 0;
  if (
    h?.digest &&
    (h.sha1 || !withSha1) &&
    h.hashed.length <= parts.length &&
    h.hashed.every((r, i) => r.line === parts[i]?.line)
  ) {
    // Finish the hash that followed the parts: only the tail is read now.
    h.digest.written(total);
    result = await h.digest.finish(total).catch(() => undefined);
    held = h.hashed.length;
  }
  h?.digest?.cancel(); // a no-op when it finished
  if (!result) {
    held = 0;
    result = await digestFile(path, wholeFileAlgorithms(withSha1)).finish(total);
  }
  return { result, held };
}

/** BlobStore.assembleParts of the local store. */
export async function assembleLocalParts(
  ctx: PartsContext,
  onAssemble: ((event: AssembleEvent) => void) | undefined,
  sessionId: string,
  partCount: number,
  opts?: { skipSha1?: boolean },
): Promise<StagedBlob> {
  const { layout } = ctx;
  checkSessionId(sessionId);
  checkPartCount(partCount);
  const all = Array.from({ length: partCount }, (_, i) => i + 1);
  const lock = lockForAssembly(layout, sessionId, all);
  try {
    const { parts, total } = await contiguousParts(layout, sessionId, all);
    const path = layout.dataPath(sessionId);
    await trimSessionFile(path, total);
    const withSha1 = !opts?.skipSha1;
    const { result, held } = await wholeFileHashes(ctx.hashes, path, sessionId, parts, total, withSha1);
    onAssemble?.({ sessionId, incremental: held > 0, partsRead: partCount - held });
    return stagedSession(layout, sessionId, lock, {
      sha256: result.sha256 ?? "",
      sha1: result.sha1 ?? "",
      size: total,
      ...(result.crc32 ? { crc32: crc32Value(result.crc32) } : {}),
    });
  } catch (err) {
    closeSync(lock);
    throw err;
  }
}

/** BlobStore.discardAssembly of the local store: removes the names the session's file was linked to. */
export async function discardLocalAssembly(layout: Layout, sessionId: string): Promise<void> {
  checkSessionId(sessionId);
  let lock: number;
  try {
    lock = lockedFile(
      layout.lockPath(sessionId),
      "exclusive",
      "the upload session is being completed: wait for that answer",
    ).fd;
  } catch (err) {
    if (isNotFound(err)) return; // no part was ever stored: nothing was linked
    throw err;
  }
  try {
    await removeRecordedLinks(layout.linksPath(sessionId), layout.dataPath(sessionId), layout.filePathOf);
  } finally {
    closeSync(lock);
  }
}

/** BlobStore.deleteParts of the local store. */
export async function deleteLocalParts(ctx: PartsContext, sessionId: string): Promise<void> {
  checkSessionId(sessionId);
  ctx.sessions.forget(sessionId);
  ctx.hashes.drop(sessionId);
  await removeFile(ctx.layout.tmpDir, ctx.layout.dataPath(sessionId));
  await rm(ctx.layout.partDir(sessionId), { recursive: true, force: true });
}
