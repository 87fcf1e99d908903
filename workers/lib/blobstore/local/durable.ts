// Durable writes on local disk: fsync of files and directories, files locked without waiting, shared
// (group-committed) fdatasyncs, and the streaming of a body into a file while its bytes start going to
// disk and the digest lanes hash them.
import { closeSync, constants, fdatasync, fsync, mkdirSync, openSync, read, write, writeSync } from "node:fs";
import { dirname } from "node:path";
import { chunksOf, type Meter } from "../common.ts";
import type { FileDigest } from "../digest.ts";
import { BlobStoreError, PartsBusyError } from "../errors.ts";
import { startWriteback, tryLock } from "../libc.ts";
import type { BlobBody } from "../types.ts";

/** The digest lanes are told every this many bytes written (and copies go in steps of it). */
export const WRITE_BUFFER = 1 << 20;
/** While a body arrives, its bytes start going to disk (write-behind, libc.ts) every this many bytes. */
export const WRITE_BEHIND = 2 << 20;
/** Without write-behind (not Linux), a body's file is fdatasync'ed in the background this often instead. */
export const SYNC_EVERY = 32 << 20;
/** …and a part written in place starts a background sync of the session's file this often. */
export const PART_SYNC_EVERY = 4 << 20;

export const isNotFound = (err: unknown) => (err as { code?: unknown } | null)?.code === "ENOENT";

export const syncFd = (fd: number, dataOnly: boolean) =>
  new Promise<void>((resolve, reject) =>
    (dataOnly ? fdatasync : fsync)(fd, (err) => (err ? reject(err) : resolve())),
  );

/**
 * fsync a directory (after a rename or a new name in it, so the name survives a crash) or a file, by path.
 * Group-committed per path: a caller gets a sync that started after it asked, and callers that ask while
 * one runs share the next one. Small uploads land side by side in few directories (blobs/<aa>/ gets a new
 * <bb>/ for most of them): one sync then covers many names, and each costs one call in the thread pool
 * (Bun's holds about one thread per core; it is also where every fsync waits) instead of three.
 */
export function fsyncPath(path: string): Promise<void> {
  let group = pathSyncs.get(path);
  if (!group) {
    group = new GroupCommit(
      () => syncPathNow(path, false),
      () => pathSyncs.delete(path),
    );
    pathSyncs.set(path, group);
  }
  return group.sync();
}

const pathSyncs = new Map<string, GroupCommit>();

/**
 * One fsync (fdatasync: `dataOnly`) of a path, not shared; its open and close are metadata calls, made
 * here rather than in the thread pool.
 */
export async function syncPathNow(path: string, dataOnly: boolean): Promise<void> {
  const fd = openSync(path, "r");
  try {
    await syncFd(fd, dataOnly);
  } finally {
    closeSync(fd);
  }
}

/**
 * mkdir -p; the directories whose names it created: their parents, to be fsync'ed before the names count.
 * The mkdir is synchronous: it is a metadata call that does not wait for the disk, and the thread pool may
 * be busy with syncs (a part's request waited 3-7 ms here for a directory that existed).
 */
export function makeDir(dir: string): string[] {
  const first = mkdirSync(dir, { recursive: true });
  const parents: string[] = [];
  if (first === undefined) return parents;
  for (let d = dir; ; d = dirname(d)) {
    parents.push(dirname(d));
    if (d === first) break;
  }
  return parents;
}

/** mkdir -p, then fsync the parents of every directory it created (side by side: done when all are). */
export async function makeDirDurable(dir: string): Promise<void> {
  await Promise.all(makeDir(dir).map(fsyncPath));
}

/** Opens a file for reading and writing, creating it if needed (then its directory wants an fsync). */
export function openOrCreate(path: string): { fd: number; created: boolean } {
  try {
    return { fd: openSync(path, "r+"), created: false };
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return { fd: openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644), created: true };
  }
}

/** Opens (creating it if needed) a file and locks it without waiting; PartsBusyError when it is taken. */
export function lockedFile(
  path: string,
  mode: "shared" | "exclusive",
  busy: string,
): { fd: number; created: boolean } {
  const { fd, created } = openOrCreate(path);
  try {
    if (!tryLock(fd, mode)) throw new PartsBusyError(busy);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return { fd, created };
}

/**
 * Group commit of a sync: a caller gets a run that started after it asked, and every caller that asks
 * while one runs shares the next. `idle` is called when none runs or waits any more.
 */
export class GroupCommit {
  private running?: Promise<void>;
  private queued?: Promise<void>;
  constructor(
    private readonly run: () => Promise<void>,
    private readonly idle: () => void = () => undefined,
  ) {}

  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const after = this.running.catch(() => undefined);
    this.queued = after.then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    const p = this.run().finally(() => {
      if (this.running !== p) return;
      this.running = undefined;
      if (!this.queued) this.idle();
    });
    this.running = p;
    return p;
  }
}

/**
 * Group commit of fdatasync on one file: parts written side by side then wait for one sync instead of
 * queueing a sync each (a sync costs milliseconds: it writes back what is dirty).
 */
export class SyncGroup extends GroupCommit {
  constructor(fd: number) {
    super(() => syncFd(fd, true));
  }
}

const readAt = (fd: number, buf: Uint8Array, position: number) =>
  new Promise<number>((resolve, reject) =>
    read(fd, buf, 0, buf.byteLength, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
const writeAt = (fd: number, buf: Uint8Array, position: number) =>
  new Promise<number>((resolve, reject) =>
    write(fd, buf, 0, buf.byteLength, position, (err, n) => (err ? reject(err) : resolve(n))),
  );

/** Copies the first `size` bytes of `src` into `dst` at `position` (in the thread pool, 1 MiB at a time). */
export async function copyRange(src: number, dst: number, position: number, size: number): Promise<void> {
  const buf = new Uint8Array(Math.min(WRITE_BUFFER, Math.max(size, 1)));
  for (let done = 0; done < size; ) {
    const n = await readAt(src, buf.subarray(0, Math.min(buf.byteLength, size - done)), done);
    if (n <= 0) throw new BlobStoreError("a part's temporary copy ended early");
    for (let w = 0; w < n; ) w += await writeAt(dst, buf.subarray(w, n), position + done + w);
    done += n;
  }
}

/** How a body's bytes go to disk while it arrives (writeBody). */
export interface Flush {
  /** Write-behind every WRITE_BEHIND bytes; else `run` (an fdatasync) in the background every `every`. */
  writeBehind: boolean;
  every: number;
  run: () => Promise<void>;
}

/**
 * Streams a body into `fd` from `position` on, each chunk written before the next is asked for (the body
 * may free it then: freeingChunks), telling `digest` how far the file is written every WRITE_BUFFER bytes.
 * The bytes start going to disk as they arrive (`flush`: write-behind, or background fdatasyncs, a
 * SyncGroup's when writers share the file), so the caller's closing sync is short. The meter counts and
 * limits the bytes before they are written, so on a failure what passed the meter (meter.size) is what
 * was written.
 */
export async function writeBody(
  fd: number,
  position: number,
  body: BlobBody,
  meter: Meter,
  digest: FileDigest | undefined,
  flush: Flush,
): Promise<void> {
  let written = 0;
  let told = 0;
  let synced = 0;
  let syncing: Promise<void> | undefined;
  const { writeBehind } = flush;
  const tell = (last = false) => {
    told = written;
    digest?.written(written);
    if (writeBehind) {
      if (written > synced && (last || written - synced >= WRITE_BEHIND)) {
        startWriteback(fd, position + synced, written - synced);
        synced = written;
      }
    } else if (!syncing && written - synced >= flush.every) {
      const upTo = written;
      syncing = flush.run().then(() => {
        synced = upTo;
        syncing = undefined;
      });
      syncing.catch(() => undefined); // reported when awaited below
    }
  };
  try {
    for await (const chunk of chunksOf(body)) {
      meter.add(chunk);
      for (let off = 0; off < chunk.byteLength; )
        off += writeSync(fd, chunk, off, chunk.byteLength - off, position + written + off);
      digest?.chunk?.(chunk);
      written += chunk.byteLength;
      if (written - told >= WRITE_BUFFER) tell();
    }
  } finally {
    tell(true);
    await syncing;
  }
}
