// The local-disk blob store (the embedded default). Layout under its root:
//   tmp/<uuid>                   bodies being written; a crash can leave some, removed after a day without writes
//   blobs/<aa>/<bb>/<sha256>.<n> committed content, found by its SHA-256 (aa, bb: its first 4 digits) plus a
//                                random suffix n: each stored copy has its own name, so deleting one copy (a
//                                duplicate, a failed upload, garbage collection) can never hit another's bytes.
//                                The database keeps one copy per SHA-256.
//   parts/<sessionId>/<n>        parts of multipart sessions
//   tmp/assembly-<uuid>          a session's incremental assembly (see Assemblies below)
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
import {
  concatenateFiles,
  digestFile,
  type OpenConcatenation,
  openConcatenation,
  type SourceFile,
} from "./digest.ts";
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

/** What assembleParts did (for tests and metrics). */
export interface AssembleEvent {
  sessionId: string;
  /** The session's incremental assembly was finished (else all parts were read again). */
  incremental: boolean;
  /** Parts read at completion: those the incremental assembly did not hold yet, or all of them. */
  partsRead: number;
}

export interface LocalBlobStoreOptions {
  /** Incremental assemblies kept at once (least recently used dropped beyond). Default 16; 0 turns them off. */
  maxAssemblies?: number;
  /** An assembly untouched this long (ms) is dropped (its session may have died elsewhere). Default 30 min. */
  assemblyIdleMs?: number;
  onAssemble?: (event: AssembleEvent) => void;
  /**
   * Files in tmp/ not written to for this long (ms) are leftovers of a crash (a body being written, an
   * assembly) and are removed at start and every hour. Default 24 h: far beyond any live write's silence.
   */
  tmpMaxAgeMs?: number;
}

/** Removes files in `dir` not modified for `maxAgeMs`; returns how many. Errors on single files are skipped. */
async function sweepOldFiles(dir: string, maxAgeMs: number): Promise<number> {
  let removed = 0;
  const cutoff = Date.now() - maxAgeMs;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs < cutoff) {
        await rm(path, { force: true, recursive: true });
        removed++;
      }
    } catch {
      // Gone meanwhile (finished, or removed by another replica's sweep).
    }
  }
  return removed;
}

const sameFile = (a: SourceFile, b: SourceFile) =>
  a.path === b.path && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.size === b.size;

export async function createLocalBlobStore(
  root: string,
  options: LocalBlobStoreOptions = {},
): Promise<BlobStore> {
  root = resolve(root);
  const tmpDir = join(root, "tmp");
  const partsDir = join(root, "parts");
  await mkdir(tmpDir, { recursive: true });
  await mkdir(join(root, "blobs"), { recursive: true });
  await mkdir(partsDir, { recursive: true });

  const partDir = (sessionId: string) => join(partsDir, sessionId);
  const partPath = (sessionId: string, n: number) => join(partsDir, sessionId, String(n));

  /** A part file with its identity (so that a replacement is noticed); undefined when absent. */
  async function partFile(sessionId: string, n: number): Promise<SourceFile | undefined> {
    const path = partPath(sessionId, n);
    try {
      const st = await stat(path, { bigint: true });
      return { path, ino: String(st.ino), mtimeNs: String(st.mtimeNs), size: Number(st.size) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  // Assemblies: so that completing a session does not read every part again, this process appends the
  // complete parts it stores, as soon as parts 1..k are all there, to a temp file while digest lanes hash
  // it (off the event loop, reading the part files: memory stays flat). Each appended part's identity is
  // recorded; completion finishes the assembly only when they all still match the parts on disk, and reads
  // everything again otherwise (another replica stored parts, this process restarted, a part was re-sent):
  // correctness never depends on this state.
  interface Assembly {
    sessionId: string;
    sha1: boolean;
    /** The temp file and the lanes' job, from the first part appended on. */
    out?: { path: string; concat: OpenConcatenation };
    /** The parts 1..appended.length, as appended. */
    appended: SourceFile[];
    /** Complete parts beyond the prefix, waiting for the gap before them to fill. */
    waiting: Map<number, SourceFile>;
    touched: number;
  }
  const maxAssemblies = options.maxAssemblies ?? 16;
  const assemblyIdleMs = options.assemblyIdleMs ?? 30 * 60_000;
  const assemblies = new Map<string, Assembly>(); // in least recently used order

  async function dropAssembly(a: Assembly): Promise<void> {
    if (assemblies.get(a.sessionId) === a) assemblies.delete(a.sessionId);
    a.out?.concat.cancel();
    if (a.out) await rm(a.out.path, { force: true });
  }
  const dropQuietly = (a: Assembly) => void dropAssembly(a).catch(() => undefined);

  function append(a: Assembly, files: SourceFile[]): void {
    if (files.length === 0) return;
    if (!a.out) {
      const path = join(tmpDir, `assembly-${randomUUID()}`);
      closeSync(openSync(path, "wx"));
      const concat = openConcatenation(path, a.sha1 ? ["sha256", "sha1"] : ["sha256"]);
      a.out = { path, concat };
      concat.failed.catch(() => dropQuietly(a)); // a part replaced under it, say: completion reads again
    }
    a.out.concat.append(files);
    a.appended.push(...files);
  }

  /** Part n of a session was stored: `file` when it is complete, undefined when shorter. */
  function partStored(sessionId: string, n: number, file: SourceFile | undefined, sha1: boolean): void {
    if (maxAssemblies <= 0) return;
    const old = assemblies.get(sessionId);
    let a: Assembly = old ?? { sessionId, sha1, appended: [], waiting: new Map(), touched: 0 };
    if (old && (n <= old.appended.length || (sha1 && !old.sha1))) {
      // A part already appended was replaced (or SHA-1 is wanted now): start again (the lanes read the parts
      // again in the background); the parts after it wait to be appended again.
      dropQuietly(old);
      a = { sessionId, sha1: sha1 || old.sha1, appended: [], waiting: old.waiting, touched: 0 };
      old.appended.forEach((f, i) => {
        if (i + 1 >= n) a.waiting.set(i + 1, f);
      });
      append(a, old.appended.slice(0, n - 1));
    }
    assemblies.delete(sessionId);
    for (const [, lru] of assemblies) {
      if (assemblies.size < maxAssemblies) break;
      dropQuietly(lru);
    }
    assemblies.set(sessionId, a); // most recently used
    a.touched = Date.now();
    if (file) a.waiting.set(n, file);
    else a.waiting.delete(n);
    const next: SourceFile[] = [];
    for (let k = a.appended.length + 1; a.waiting.has(k); k++) {
      next.push(a.waiting.get(k) as SourceFile);
      a.waiting.delete(k);
    }
    append(a, next);
  }

  const idleSweep = setInterval(
    () => {
      for (const a of [...assemblies.values()]) if (Date.now() - a.touched > assemblyIdleMs) dropQuietly(a);
    },
    Math.min(60_000, assemblyIdleMs),
  );
  idleSweep.unref();

  // Crash leftovers in tmp/ (a body being written, an assembly) go after tmpMaxAgeMs of silence.
  const tmpMaxAgeMs = options.tmpMaxAgeMs ?? 24 * 3600_000;
  await sweepOldFiles(tmpDir, tmpMaxAgeMs);
  setInterval(() => void sweepOldFiles(tmpDir, tmpMaxAgeMs), 3600_000).unref();

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

  /** The size of a committed blob's file; BlobNotFoundError when it is gone. */
  async function blobSize(path: string): Promise<number> {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError();
      throw err;
    }
  }

  return {
    backend: "local",
    stage,

    async read(location: string, range?: Range): Promise<ReadableStream<Uint8Array>> {
      const path = pathOf(location);
      checkRange(range);
      const size = await blobSize(path);
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
      const size = await blobSize(path);
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
      const file = info.size === opts.maxBytes ? await partFile(sessionId, partNumber) : undefined;
      partStored(sessionId, partNumber, file, opts.wholeSha1 === true);
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
        Array.from({ length: partCount }, async (_, i) => (await partFile(sessionId, i + 1)) ?? i + 1),
      );
      const missing = found.filter((f) => typeof f === "number");
      if (missing.length > 0) throw new MissingPartError(missing);
      const sources = found.filter((f) => typeof f !== "number");
      const withSha1 = !opts?.skipSha1;
      const a = assemblies.get(sessionId);
      if (a) {
        assemblies.delete(sessionId);
        const out = a.out;
        const usable =
          out &&
          (a.sha1 || !withSha1) &&
          a.appended.length <= partCount &&
          a.appended.every((f, i) => sameFile(f, sources[i] as SourceFile));
        if (usable) {
          // The lanes check each tail part's identity as they read it, as below.
          const held = a.appended.length;
          append(a, sources.slice(held));
          try {
            const { hashes, size } = await out.concat.finish();
            options.onAssemble?.({ sessionId, incremental: true, partsRead: partCount - held });
            return staged(out.path, { sha256: hashes.sha256, sha1: hashes.sha1 ?? "", size });
          } catch {
            // read everything again below
          }
        }
        await dropAssembly(a);
      }
      // Parts are copied and hashed by the digest lanes (each byte read once per lane, off the event loop);
      // a part replaced meanwhile fails the assembly rather than mixing versions.
      const path = join(tmpDir, randomUUID());
      try {
        const { hashes, size } = await concatenateFiles(
          sources,
          path,
          withSha1 ? ["sha256", "sha1"] : ["sha256"],
        );
        options.onAssemble?.({ sessionId, incremental: false, partsRead: partCount });
        return staged(path, { sha256: hashes.sha256, sha1: hashes.sha1 ?? "", size });
      } catch (err) {
        await rm(path, { force: true });
        throw new BlobStoreError(`assembling the parts failed: ${(err as Error).message}`);
      }
    },

    async deleteParts(sessionId) {
      checkSessionId(sessionId);
      const a = assemblies.get(sessionId);
      if (a) await dropAssembly(a);
      await rm(partDir(sessionId), { recursive: true, force: true });
    },
  };
}
