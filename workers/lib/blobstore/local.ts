// The local-disk blob store (the embedded default). Layout under its root:
//   tmp/<uuid>                   bodies being written (a crash can leave some: older than a day is garbage)
//   blobs/<aa>/<bb>/<sha256>.<n> committed content, found by its SHA-256 (aa, bb: its first 4 digits) plus a
//                                random suffix n: each stored copy has its own name, so deleting one copy (a
//                                duplicate, a failed upload, garbage collection) can never hit another's bytes.
//                                The database keeps one copy per SHA-256.
//   parts/<sessionId>/<n>        parts of multipart sessions
// A body is written with Bun's file writer while digest lanes hash it (digest.ts), fsync'ed, then renamed
// into place atomically (and the directory fsync'ed): a name under blobs/ or parts/ always holds complete
// content.
import { randomUUID } from "node:crypto";
import { closeSync, fdatasync, fsync, openSync } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { BunFile } from "bun";
import {
  checkPartCount,
  checkPartNumber,
  checkRange,
  checkSessionId,
  chunksOf,
  Meter,
  normalizeStageOptions,
  parsePartName,
} from "./common.ts";
import { concatenateFiles, digestFile } from "./digest.ts";
import {
  BlobNotFoundError,
  BlobStoreError,
  InvalidArgumentError,
  InvalidLocationError,
  MissingPartError,
  RangeNotSatisfiableError,
} from "./errors.ts";
import type { BlobBody, BlobInfo, BlobStore, Range, StagedBlob, StageOptions } from "./types.ts";

const LOCATION = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{12})$/;
/** Bytes the file writer gathers before each write(2) (after which the digest lanes are told). */
const WRITE_BUFFER = 1 << 20;
/** A body's file is fdatasync'ed (in the background) every this many bytes while it arrives. */
const SYNC_EVERY = 32 << 20;

const isNotFound = (err: unknown) => (err as { code?: unknown } | null)?.code === "ENOENT";

/** fsync a file or a directory (a directory after a rename in it, so the new name survives a crash). */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then fsync the parents of every directory it created. */
async function makeDirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncPath(dirname(d));
    if (d === first) break;
  }
}

export async function createLocalBlobStore(root: string): Promise<BlobStore> {
  root = resolve(root);
  const tmpDir = join(root, "tmp");
  const partsDir = join(root, "parts");
  await mkdir(tmpDir, { recursive: true });
  await mkdir(join(root, "blobs"), { recursive: true });
  await mkdir(partsDir, { recursive: true });

  const partDir = (sessionId: string) => join(partsDir, sessionId);
  const partPath = (sessionId: string, n: number) => join(partsDir, sessionId, String(n));

  // Bun.file handles of recently read blobs: many range requests of one file reuse one (creating a handle
  // per request showed in profiles). A handle is only a path; a deleted blob still fails when it is read.
  const handles = new Map<string, BunFile>();
  function fileHandle(location: string): BunFile {
    let file = handles.get(location);
    if (!file) {
      file = Bun.file(pathOf(location));
      if (handles.size >= 1024) handles.delete(handles.keys().next().value as string);
      handles.set(location, file);
    }
    return file;
  }

  function pathOf(location: string): string {
    const m = typeof location === "string" ? LOCATION.exec(location) : null;
    if (!m || m[3]?.slice(0, 2) !== m[1] || m[3]?.slice(2, 4) !== m[2])
      throw new InvalidLocationError(location);
    return join(root, location);
  }

  /**
   * Writes a body to tmp/ while metering it; digest lanes hash the file as it grows (off this thread), and
   * it is fdatasync'ed in the background every SYNC_EVERY bytes, so the closing fsync is short. On any
   * failure nothing is left.
   */
  async function writeTemp(body: BlobBody, opts: StageOptions): Promise<{ path: string; info: BlobInfo }> {
    const path = join(tmpDir, randomUUID());
    const fd = openSync(path, "wx");
    const meter = new Meter(opts, false);
    const digest = digestFile(path, opts.skipSha1 ? ["sha256"] : ["sha256", "sha1"]);
    // The sink only gathers (it flushes when told, below); it does not own the descriptor.
    const sink = Bun.file(fd).writer({ highWaterMark: 2 * WRITE_BUFFER });
    let flushed = 0;
    let synced = 0;
    let syncing: Promise<void> | undefined;
    const flush = async () => {
      const done = sink.flush();
      if (typeof done !== "number") await done;
      flushed = meter.size;
      digest.written(flushed);
      if (!syncing && flushed - synced >= SYNC_EVERY) {
        const upTo = flushed;
        syncing = new Promise<void>((resolve, reject) => {
          fdatasync(fd, (err) => (err ? reject(err) : resolve()));
        }).then(() => {
          synced = upTo;
          syncing = undefined;
        });
        syncing.catch(() => undefined); // reported when awaited below
      }
    };
    try {
      for await (const chunk of chunksOf(body)) {
        meter.add(chunk);
        const written = sink.write(chunk);
        if (typeof written !== "number") await written;
        if (meter.size - flushed >= WRITE_BUFFER) await flush();
      }
      await flush();
      await sink.end();
      const [hashes] = await Promise.all([digest.finish(meter.size), syncing]);
      const info = meter.finish({ sha256: hashes.sha256 ?? "", sha1: hashes.sha1 ?? "" });
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
      return { path, info };
    } catch (err) {
      digest.cancel();
      try {
        await sink.end();
      } catch {
        // the body's error is the one to report
      }
      await syncing?.catch(() => undefined);
      await rm(path, { force: true });
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  function staged(tmpPath: string, info: BlobInfo): StagedBlob {
    let committing: Promise<string> | undefined;
    let discarded = false;
    const commit = async (): Promise<string> => {
      const { sha256 } = info;
      const suffix = randomUUID().replaceAll("-", "").slice(0, 12);
      const location = `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${suffix}`;
      const dest = join(root, location);
      await makeDirDurable(dirname(dest));
      await rename(tmpPath, dest);
      await fsyncPath(dirname(dest));
      return location;
    };
    return {
      ...info,
      commit() {
        if (discarded) return Promise.reject(new BlobStoreError("the staged blob was discarded"));
        committing ??= commit().catch((err) => {
          committing = undefined;
          throw err;
        });
        return committing;
      },
      async discard() {
        if (committing) return;
        discarded = true;
        await rm(tmpPath, { force: true });
      },
    };
  }

  async function stage(body: BlobBody, opts?: StageOptions): Promise<StagedBlob> {
    if (opts?.location !== undefined)
      throw new InvalidArgumentError("the local store names its blobs itself: no location option");
    const { path, info } = await writeTemp(body, normalizeStageOptions(opts));
    return staged(path, info);
  }

  async function listParts(sessionId: string): Promise<{ partNumber: number; size: number }[]> {
    checkSessionId(sessionId);
    let names: string[];
    try {
      names = await readdir(partDir(sessionId));
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const parts: { partNumber: number; size: number }[] = [];
    for (const name of names) {
      const partNumber = parsePartName(name);
      if (partNumber === undefined) continue;
      try {
        parts.push({ partNumber, size: (await stat(partPath(sessionId, partNumber))).size });
      } catch (err) {
        if (!isNotFound(err)) throw err; // deleted meanwhile
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  return {
    backend: "local",
    stage,

    async read(location: string, range?: Range): Promise<ReadableStream<Uint8Array>> {
      const path = pathOf(location);
      checkRange(range);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError();
        throw err;
      }
      const file = Bun.file(path);
      if (!range) return file.stream();
      if (range.start >= size) throw new RangeNotSatisfiableError(size);
      return file.slice(range.start, Math.min(range.end, size - 1) + 1).stream();
    },

    readBlob(location: string, range?: Range): Blob {
      checkRange(range);
      const file = fileHandle(location);
      return range ? file.slice(range.start, range.end + 1) : file;
    },

    async sha1Of(location: string): Promise<string> {
      const path = pathOf(location);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError();
        throw err;
      }
      const digest = digestFile(path, ["sha1"]);
      return (await digest.finish(size)).sha1 ?? "";
    },

    async stat(location: string) {
      const path = pathOf(location);
      try {
        return { size: (await stat(path)).size };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async delete(location: string) {
      await rm(pathOf(location), { force: true });
      handles.delete(location);
    },

    async putPart(sessionId, partNumber, body, opts) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      const { path, info } = await writeTemp(
        body,
        normalizeStageOptions({
          maxBytes: opts.maxBytes,
          expectedSha256: opts.expectedSha256,
          skipSha1: opts.skipSha1,
        }),
      );
      try {
        await makeDirDurable(partDir(sessionId));
        await rename(path, partPath(sessionId, partNumber)); // replaces an earlier copy atomically
        await fsyncPath(partDir(sessionId));
      } catch (err) {
        await rm(path, { force: true });
        throw err;
      }
      return info;
    },

    listParts,

    async readPart(sessionId, partNumber) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      const file = Bun.file(partPath(sessionId, partNumber));
      if (!(await file.exists())) throw new BlobNotFoundError();
      return file.stream() as unknown as AsyncIterable<Uint8Array>;
    },

    async assembleParts(sessionId, partCount, opts) {
      checkSessionId(sessionId);
      checkPartCount(partCount);
      const found = await Promise.all(
        Array.from({ length: partCount }, async (_, i) => {
          const path = partPath(sessionId, i + 1);
          try {
            const st = await stat(path, { bigint: true });
            return { path, ino: String(st.ino), mtimeNs: String(st.mtimeNs), size: Number(st.size) };
          } catch (err) {
            if (isNotFound(err)) return i + 1;
            throw err;
          }
        }),
      );
      const missing = found.filter((f) => typeof f === "number");
      if (missing.length > 0) throw new MissingPartError(missing);
      // Parts are copied and hashed by the digest lanes (each byte read once per lane, off the event loop);
      // a part replaced meanwhile fails the assembly rather than mixing versions.
      const path = join(tmpDir, randomUUID());
      try {
        const { hashes, size } = await concatenateFiles(
          found.filter((f) => typeof f !== "number"),
          path,
          opts?.skipSha1 ? ["sha256"] : ["sha256", "sha1"],
        );
        return staged(path, { sha256: hashes.sha256, sha1: hashes.sha1 ?? "", size });
      } catch (err) {
        await rm(path, { force: true });
        throw new BlobStoreError(`assembling the parts failed: ${(err as Error).message}`);
      }
    },

    async deleteParts(sessionId) {
      checkSessionId(sessionId);
      await rm(partDir(sessionId), { recursive: true, force: true });
    },
  };
}
