// The local-disk blob store (the embedded default). Layout under its root:
//   tmp/<uuid>                   bodies being written; a crash can leave some, removed after a day without writes
//   blobs/<aa>/<bb>/<sha256>.<n> committed content, found by its SHA-256 (aa, bb: its first 4 digits) plus a
//                                random suffix n: each stored copy has its own name, so deleting one copy (a
//                                duplicate, a failed upload, garbage collection) can never hit another's bytes.
//                                The database keeps one copy per SHA-256.
//   parts/<sessionId>/data       a multipart session's file: each part's bytes at its offset, so that
//                                completing the session moves no bytes (the file is linked into blobs/)
//   parts/<sessionId>/records    64 bytes per part: part n's record at (n - 1) × 64, "<offset> <size>
//                                <attempt>\n" once its bytes are durable (zeros: absent, or being written)
//   parts/<sessionId>/<n>.lock   part n's lock (two writers of one part are never mixed)
//   parts/<sessionId>/lock       the session's lock: part writers share it, completion holds it alone
//   parts/<sessionId>/links      the names under blobs/ completion linked the session's file to, each
//                                written down before the link (local-links.ts)
// A body is written while digest lanes hash it (digest.ts), fsync'ed, then renamed into place atomically
// (and the directory fsync'ed): a name under blobs/ always holds complete content.
import { randomUUID } from "node:crypto";
import {
  closeSync,
  constants,
  fdatasync,
  fstatSync,
  fsync,
  ftruncateSync,
  mkdirSync,
  openSync,
  read,
  readSync,
  write,
  writeSync,
} from "node:fs";
import { link, mkdir, open, readdir, readFile, rename, rm, stat, statfs } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { BunFile } from "bun";
import {
  checkPartCount,
  checkPartNumber,
  checkRange,
  checkSessionId,
  chunksOf,
  Meter,
  normalizeStageOptions,
} from "./common.ts";
import { type Algorithm, digestFile, type FileDigest } from "./digest.ts";
import {
  BlobNotFoundError,
  BlobStoreError,
  InvalidArgumentError,
  InvalidLocationError,
  MissingPartError,
  PartsBusyError,
  RangeNotSatisfiableError,
  SessionSealedError,
} from "./errors.ts";
import { canWriteBehind, startWriteback, tryLock } from "./libc.ts";
import { recordLink, removeRecordedLinks } from "./local-links.ts";
import type { BlobBody, BlobInfo, BlobStore, PartOptions, Range, StagedBlob, StageOptions } from "./types.ts";

const LOCATION = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{12})$/;

/** A fresh location for content with this SHA-256 (each stored copy has its own; see StagedBlob.commit). */
export function newLocalLocation(sha256: string): string {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 12);
  return `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${suffix}`;
}
/** The digest lanes are told every this many bytes written (and copies go in steps of it). */
const WRITE_BUFFER = 1 << 20;
/** While a body arrives, its bytes start going to disk (write-behind, libc.ts) every this many bytes. */
const WRITE_BEHIND = 2 << 20;
/** Without write-behind (not Linux), a body's file is fdatasync'ed in the background this often instead. */
const SYNC_EVERY = 32 << 20;
/** …and a part written in place starts a background sync of the session's file this often. */
const PART_SYNC_EVERY = 4 << 20;
/** A session's file and its lock, beside the part records (whose names are numbers). */
const DATA = "data";
const RECORDS = "records";
const LOCK = "lock";
const LINKS = "links";
/** A complete part record: offset, size and the attempt that wrote it (a re-send gets another). */
const RECORD = /^(\d{1,16}) (\d{1,16}) ([0-9a-f-]{36})\n\0*$/;
const SLOT = 64;
const EMPTY_SLOT = new Uint8Array(SLOT);

/**
 * A file at least this large is removed in the background (renamed into tmp/ first, so its name is gone
 * at once): freeing a GiB of blocks (and trimming them, on a disk mounted with `discard`) takes a
 * quarter of a second here, which an answer (a completed upload whose content was known already) should
 * not wait for. A crash in between leaves it in tmp/, which the tmp sweep empties.
 */
const BACKGROUND_REMOVE_BYTES = 64 << 20;

const isNotFound = (err: unknown) => (err as { code?: unknown } | null)?.code === "ENOENT";

const syncFd = (fd: number, dataOnly: boolean) =>
  new Promise<void>((resolve, reject) =>
    (dataOnly ? fdatasync : fsync)(fd, (err) => (err ? reject(err) : resolve())),
  );

/** fsync a file or a directory (a directory after a rename in it, so the new name survives a crash). */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p, then fsync the parents of every directory it created. The mkdir is synchronous: it is a
 * metadata call that does not wait for the disk, and the thread pool may be busy with syncs (a part's
 * request waited 3-7 ms here for a directory that existed).
 */
async function makeDirDurable(dir: string): Promise<void> {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncPath(dirname(d));
    if (d === first) break;
  }
}

/** Opens a file for reading and writing, creating it if needed (then its directory wants an fsync). */
function openOrCreate(path: string): { fd: number; created: boolean } {
  try {
    return { fd: openSync(path, "r+"), created: false };
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return { fd: openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644), created: true };
  }
}

/** Opens (creating it if needed) a file and locks it without waiting; PartsBusyError when it is taken. */
function lockedFile(
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
 * Group commit of fdatasync on one file: a caller gets a sync that started after it asked, and every
 * caller that asks while one runs shares the next. Parts written side by side then wait for one sync
 * instead of queueing a sync each (a sync costs milliseconds: it writes back what is dirty).
 */
class SyncGroup {
  private running?: Promise<void>;
  private queued?: Promise<void>;
  constructor(private readonly fd: number) {}

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
    const p = syncFd(this.fd, true).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
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
async function copyRange(src: number, dst: number, position: number, size: number): Promise<void> {
  const buf = new Uint8Array(Math.min(WRITE_BUFFER, Math.max(size, 1)));
  for (let done = 0; done < size; ) {
    const n = await readAt(src, buf.subarray(0, Math.min(buf.byteLength, size - done)), done);
    if (n <= 0) throw new BlobStoreError("a part's temporary copy ended early");
    for (let w = 0; w < n; ) w += await writeAt(dst, buf.subarray(w, n), position + done + w);
    done += n;
  }
}

/** How a body's bytes go to disk while it arrives (writeBody). */
interface Flush {
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
async function writeBody(
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
      written += chunk.byteLength;
      if (written - told >= WRITE_BUFFER) tell();
    }
  } finally {
    tell(true);
    await syncing;
  }
}

/** What assembleParts did (for tests and metrics). */
export interface AssembleEvent {
  sessionId: string;
  /** The whole-file hash computed while parts arrived was used (else the whole file was read). */
  incremental: boolean;
  /** Parts read at completion: those not hashed yet, or all of them. */
  partsRead: number;
}

export interface LocalBlobStoreOptions {
  /** Sessions whose whole-file hash is kept going as parts arrive (least recently used dropped beyond). Default 16; 0 turns it off. */
  maxSessionHashes?: number;
  /** Such a hash untouched this long (ms) is dropped (its session may have died elsewhere). Default 30 min. */
  sessionHashIdleMs?: number;
  onAssemble?: (event: AssembleEvent) => void;
  /**
   * Files in tmp/ not written to for this long (ms) are leftovers of a crash (a body being written) and
   * are removed at start and every hour. Default 24 h: far beyond any live write's silence.
   */
  tmpMaxAgeMs?: number;
  /**
   * Bodies start going to disk as they arrive through sync_file_range (libc.ts). Default: where the system
   * has it (Linux); false: a background fdatasync every few MiB instead (the only way elsewhere).
   */
  writeBehind?: boolean;
}

/** Files being removed in the background (removeFile): a sweep takes them whatever their age. */
const REMOVED = "removed-";

/**
 * Removes files in `dir` not modified for `maxAgeMs`, and background removals a crash interrupted;
 * returns how many. Errors on single files are skipped.
 */
async function sweepOldFiles(dir: string, maxAgeMs: number): Promise<number> {
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

/** A complete part as its record says. */
interface PartRecord {
  offset: number;
  size: number;
  /** The record's text: it names the attempt, so a part re-sent meanwhile (by any process) is noticed. */
  line: string;
}

/** The record in a slot, or undefined (zeros: absent or being written; a torn write does not parse). */
function parseRecord(slot: Uint8Array): PartRecord | undefined {
  if (slot.byteLength !== SLOT || slot[0] === 0) return undefined;
  const text = Buffer.from(slot.buffer, slot.byteOffset, slot.byteLength).toString("latin1");
  const m = RECORD.exec(text);
  return m ? { offset: Number(m[1]), size: Number(m[2]), line: text.replace(/\0+$/, "") } : undefined;
}

/** Part n's slot in an open records file (zeros past its end). */
function slotIn(fd: number, n: number): Uint8Array {
  const slot = new Uint8Array(SLOT);
  readSync(fd, slot, 0, SLOT, (n - 1) * SLOT);
  return slot;
}

/** Every record of a session's records file (sparse: index n - 1). */
async function readRecords(path: string): Promise<(PartRecord | undefined)[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const records: (PartRecord | undefined)[] = [];
  for (let at = 0; at + SLOT <= bytes.byteLength; at += SLOT)
    records.push(parseRecord(bytes.subarray(at, at + SLOT)));
  return records;
}

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
  const dataPath = (sessionId: string) => join(partsDir, sessionId, DATA);
  const recordsPath = (sessionId: string) => join(partsDir, sessionId, RECORDS);

  // A session's data and records files, opened once for the part writers of this process at a time, so
  // that their syncs are shared (SyncGroup).
  interface SessionFiles {
    data: number;
    records: number;
    dataSync: SyncGroup;
    recordsSync: SyncGroup;
    users: number;
  }
  const sessionFiles = new Map<string, SessionFiles>();

  async function openSessionFiles(sessionId: string): Promise<SessionFiles> {
    let f = sessionFiles.get(sessionId);
    if (!f) {
      const opened = [openOrCreate(dataPath(sessionId)), openOrCreate(recordsPath(sessionId))];
      const [data, records] = opened.map((o) => o.fd) as [number, number];
      if (opened.some((o) => o.created)) await fsyncPath(partDir(sessionId)); // their names survive a crash
      f = sessionFiles.get(sessionId); // opened meanwhile by another writer
      if (f) {
        closeSync(data);
        closeSync(records);
      } else {
        f = { data, records, dataSync: new SyncGroup(data), recordsSync: new SyncGroup(records), users: 0 };
        sessionFiles.set(sessionId, f);
      }
    }
    f.users++;
    return f;
  }

  function closeSessionFiles(sessionId: string, f: SessionFiles): void {
    if (--f.users > 0) return;
    if (sessionFiles.get(sessionId) === f) sessionFiles.delete(sessionId);
    closeSync(f.data);
    closeSync(f.records);
  }

  // Whole-file hashes: so that completing a session does not read the whole file again, this process
  // hands the session's file to a digest lane (in the background, off the event loop) as far as parts
  // 1..k are complete, as it stores them in any order. The records of the parts handed are kept;
  // completion uses the hash only when they all still match the records on disk, and reads the file
  // again otherwise (another replica stored parts, this process restarted, a part was re-sent): correctness
  // never depends on this state.
  interface SessionHash {
    sessionId: string;
    sha1: boolean;
    digest?: FileDigest;
    /** The records of parts 1..hashed.length, as handed to the lane. */
    hashed: PartRecord[];
    /** Bytes handed to the lane. */
    end: number;
    /** Complete parts beyond them, waiting for the gap before them to fill. */
    waiting: Map<number, PartRecord>;
    touched: number;
  }
  const maxHashes = options.maxSessionHashes ?? 16;
  const hashIdleMs = options.sessionHashIdleMs ?? 30 * 60_000;
  const hashes = new Map<string, SessionHash>(); // in least recently used order

  function dropHash(h: SessionHash): void {
    if (hashes.get(h.sessionId) === h) hashes.delete(h.sessionId);
    h.digest?.cancel();
  }

  function advance(h: SessionHash): void {
    for (let k = h.hashed.length + 1; ; k++) {
      const r = h.waiting.get(k);
      if (!r || r.offset !== h.end) break;
      h.waiting.delete(k);
      h.hashed.push(r);
      h.end += r.size;
    }
    if (h.hashed.length === 0) return;
    const algorithms: Algorithm[] = h.sha1 ? ["sha256", "sha1"] : ["sha256"];
    h.digest ??= digestFile(dataPath(h.sessionId), algorithms, { background: true });
    h.digest.written(h.end);
  }

  /** A fresh hash of the session (all parts waiting again but `except`), in place of `old`. */
  function restart(old: SessionHash | undefined, sessionId: string, sha1: boolean, except?: number) {
    const h: SessionHash = { sessionId, sha1, hashed: [], end: 0, waiting: new Map(), touched: Date.now() };
    if (old) {
      dropHash(old);
      for (const [i, r] of old.hashed.entries()) h.waiting.set(i + 1, r);
      for (const [k, r] of old.waiting) h.waiting.set(k, r);
      if (except !== undefined) h.waiting.delete(except);
    }
    hashes.set(sessionId, h);
    return h;
  }

  /** Part n is about to be written: a hash that has read its old bytes is void. */
  function partWriting(sessionId: string, n: number): void {
    const h = hashes.get(sessionId);
    if (!h) return;
    h.waiting.delete(n);
    if (n <= h.hashed.length) advance(restart(h, sessionId, h.sha1, n));
  }

  /** Part n is complete on disk with record `r`. */
  function partStored(sessionId: string, n: number, r: PartRecord, sha1: boolean): void {
    if (maxHashes <= 0) return;
    const old = hashes.get(sessionId);
    // SHA-1 wanted now (a later part said so): start again with it.
    const h = old && (!sha1 || old.sha1) ? old : restart(old, sessionId, sha1 || old?.sha1 === true);
    hashes.delete(sessionId);
    for (const [, lru] of hashes) {
      if (hashes.size < maxHashes) break;
      dropHash(lru);
    }
    hashes.set(sessionId, h); // most recently used
    h.touched = Date.now();
    h.waiting.set(n, r);
    advance(h);
  }

  const idleSweep = setInterval(
    () => {
      for (const h of [...hashes.values()]) if (Date.now() - h.touched > hashIdleMs) dropHash(h);
    },
    Math.min(60_000, hashIdleMs),
  );
  idleSweep.unref();

  // Crash leftovers in tmp/ (bodies being written) go after tmpMaxAgeMs of silence.
  const tmpMaxAgeMs = options.tmpMaxAgeMs ?? 24 * 3600_000;
  const writeBehind = options.writeBehind ?? canWriteBehind();
  /** A body's own file, synced alone; a session's file, synced by its SyncGroup (shared with its other parts). */
  const alone = (fd: number): Flush => ({ writeBehind, every: SYNC_EVERY, run: () => syncFd(fd, true) });
  const shared = (files: SessionFiles): Flush => ({
    writeBehind,
    every: PART_SYNC_EVERY,
    run: () => files.dataSync.sync(),
  });
  await sweepOldFiles(tmpDir, tmpMaxAgeMs);
  setInterval(() => void sweepOldFiles(tmpDir, tmpMaxAgeMs), 3600_000).unref();

  // Bun.file handles of recently read blobs: many range requests of one file reuse one (creating a handle
  // per request showed in profiles). A handle is only a path; a deleted blob still fails when it is read.
  const handles = new Map<string, BunFile>();
  function fileHandle(location: string): BunFile {
    let file = handles.get(location);
    if (!file) {
      file = Bun.file(filePathOf(location));
      if (handles.size >= 1024) handles.delete(handles.keys().next().value as string);
      handles.set(location, file);
    }
    return file;
  }

  function filePathOf(location: string): string {
    const m = typeof location === "string" ? LOCATION.exec(location) : null;
    if (!m || m[3]?.slice(0, 2) !== m[1] || m[3]?.slice(2, 4) !== m[2])
      throw new InvalidLocationError(location);
    return join(root, location);
  }

  /** Removes a file (absent: nothing to do); a large one with a single name, in the background. */
  async function removeFile(path: string): Promise<void> {
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

  /** Writes a body to tmp/ while digest lanes hash it, then fsyncs it. On any failure nothing is left. */
  async function writeTemp(body: BlobBody, opts: StageOptions): Promise<{ path: string; info: BlobInfo }> {
    const path = join(tmpDir, randomUUID());
    const fd = openSync(path, "wx");
    const meter = new Meter(opts, false);
    const digest = digestFile(path, opts.skipSha1 && !opts.expectedSha1 ? ["sha256"] : ["sha256", "sha1"]);
    try {
      await writeBody(fd, 0, body, meter, digest, alone(fd));
      const hashes = await digest.finish(meter.size);
      const info = meter.finish({ sha256: hashes.sha256 ?? "", sha1: hashes.sha1 ?? "" });
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

  /**
   * A staged blob whose bytes `place(dest)` puts under their final name (the directory is made durable
   * around it); `discarded` runs on discard, `committed` once the bytes are in place.
   */
  function stagedBlob(
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

  /** A body written to tmp/: commit renames it into place, discard removes it. */
  const staged = (tmpPath: string, info: BlobInfo) =>
    stagedBlob(
      info,
      (dest) => rename(tmpPath, dest),
      () => rm(tmpPath, { force: true }),
    );

  /**
   * A session's file as a staged blob, while `lock` (the session's, held alone) keeps part writers out:
   * commit links the file into blobs/ (the parts stay until deleteParts, so a failure after commit can
   * complete again), discard keeps it; both release the lock.
   */
  function stagedSession(sessionId: string, lock: number, info: BlobInfo): StagedBlob {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      closeSync(lock);
    };
    return stagedBlob(
      info,
      async (dest) => {
        await recordLink(join(partDir(sessionId), LINKS), relative(root, dest));
        await link(dataPath(sessionId), dest);
      },
      async () => release(),
      release,
    );
  }

  async function stage(body: BlobBody, opts?: StageOptions): Promise<StagedBlob> {
    if (opts?.location !== undefined)
      throw new InvalidArgumentError("the local store names its blobs itself: no location option");
    const { path, info } = await writeTemp(body, normalizeStageOptions(opts));
    return staged(path, info);
  }

  async function listParts(sessionId: string): Promise<{ partNumber: number; size: number }[]> {
    checkSessionId(sessionId);
    const parts: { partNumber: number; size: number }[] = [];
    for (const [i, r] of (await readRecords(recordsPath(sessionId))).entries())
      if (r) parts.push({ partNumber: i + 1, size: r.size });
    return parts;
  }

  /** Empties part n's record (durably) before its bytes change: the part stops counting first. */
  async function clearRecord(files: SessionFiles, n: number): Promise<void> {
    writeSync(files.records, EMPTY_SLOT, 0, SLOT, (n - 1) * SLOT);
    await files.recordsSync.sync();
  }

  /** putPart's work, under the session's lock (shared) and the part's (exclusive). */
  async function writePart(
    sessionId: string,
    n: number,
    body: BlobBody,
    opts: PartOptions,
    files: SessionFiles,
  ): Promise<BlobInfo> {
    const { offset } = opts;
    const checks = normalizeStageOptions({
      maxBytes: opts.maxBytes,
      expectedSha256: opts.expectedSha256,
      expectedSha1: opts.expectedSha1,
    });
    // Completion links the file into blobs/: from then on it is content, never to be written.
    if (fstatSync(files.data).nlink > 1) throw new SessionSealedError();
    const slot = slotIn(files.records, n);
    const old = parseRecord(slot);
    if (!old) {
      partWriting(sessionId, n);
      // A torn record of a crashed attempt, say; a slot never written (the usual first write of a part)
      // has nothing to clear.
      if (slot.some((b) => b !== 0)) await clearRecord(files, n);
    }
    const algorithms: Algorithm[] = [];
    if (checks.expectedSha256) algorithms.push("sha256");
    if (!opts.skipSha1 || checks.expectedSha1) algorithms.push("sha1");
    // A first copy is written in place. A re-sent part goes to tmp/ first and is copied into place only
    // once it has arrived whole (or, with keepPartial, longer than the earlier copy): a failed re-send
    // leaves the earlier copy as it was.
    const into = old
      ? { path: join(tmpDir, randomUUID()), fd: -1, at: 0 }
      : { path: dataPath(sessionId), fd: files.data, at: offset };
    if (old) into.fd = openSync(into.path, "wx+");
    const meter = new Meter(checks, false);
    let failure: unknown;
    let info: BlobInfo;
    try {
      const digest =
        algorithms.length > 0 ? digestFile(into.path, algorithms, { offset: into.at }) : undefined;
      try {
        // In place, parts side by side share the session file's syncs (without write-behind, background
        // ones more often than one body's: each part's answer waits for its closing sync).
        await writeBody(into.fd, into.at, body, meter, digest, old ? alone(into.fd) : shared(files));
        const h = digest ? await digest.finish(meter.size) : {};
        info = meter.finish({ sha256: h.sha256 ?? "", sha1: h.sha1 ?? "" });
      } catch (err) {
        digest?.cancel();
        if (!opts.keepPartial || meter.size <= (old?.size ?? 0)) throw err;
        failure = err;
        info = { size: meter.size, sha256: "", sha1: "" };
      }
      if (old) {
        partWriting(sessionId, n);
        await clearRecord(files, n);
        await copyRange(into.fd, files.data, offset, info.size);
      }
    } finally {
      if (old) {
        closeSync(into.fd);
        await rm(into.path, { force: true });
      }
    }
    // The bytes are durable before the record says they are there.
    await files.dataSync.sync();
    const line = `${offset} ${info.size} ${randomUUID()}\n`;
    slot.fill(0);
    slot.set(Buffer.from(line, "latin1"));
    writeSync(files.records, slot, 0, SLOT, (n - 1) * SLOT);
    await files.recordsSync.sync();
    // A shorter part will be sent again (or is the last one's short copy): hashing it would be wasted.
    if (info.size === opts.maxBytes)
      partStored(sessionId, n, { offset, size: info.size, line }, opts.wholeSha1 === true);
    if (failure !== undefined) throw failure;
    return info;
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
      const path = filePathOf(location);
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
      const path = filePathOf(location);
      const size = await blobSize(path);
      const digest = digestFile(path, ["sha1"]);
      return (await digest.finish(size)).sha1 ?? "";
    },

    async stat(location: string) {
      const path = filePathOf(location);
      try {
        return { size: (await stat(path)).size };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async delete(location: string) {
      await removeFile(filePathOf(location));
      handles.delete(location);
    },

    async putPart(sessionId, partNumber, body, opts) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      const { offset } = opts;
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new InvalidArgumentError("a part's offset is a non-negative integer");
      const dir = partDir(sessionId);
      await makeDirDurable(dir);
      const session = lockedFile(
        join(dir, LOCK),
        "shared",
        "the upload session is being completed: wait for that answer",
      );
      try {
        const partLock = lockedFile(
          join(dir, `${partNumber}.lock`),
          "exclusive",
          `part ${partNumber} is being uploaded by another request: send it again once that one is answered`,
        );
        try {
          const files = await openSessionFiles(sessionId);
          try {
            return await writePart(sessionId, partNumber, body, opts, files);
          } finally {
            closeSessionFiles(sessionId, files);
          }
        } finally {
          closeSync(partLock.fd); // releases the part's lock
        }
      } finally {
        closeSync(session.fd);
      }
    },

    listParts,

    async readPart(sessionId, partNumber) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      const r = (await readRecords(recordsPath(sessionId)))[partNumber - 1];
      if (!r) throw new BlobNotFoundError();
      return Bun.file(dataPath(sessionId))
        .slice(r.offset, r.offset + r.size)
        .stream() as unknown as AsyncIterable<Uint8Array>;
    },

    async assembleParts(sessionId, partCount, opts) {
      checkSessionId(sessionId);
      checkPartCount(partCount);
      const all = Array.from({ length: partCount }, (_, i) => i + 1);
      let lock: number;
      try {
        lock = lockedFile(
          join(partDir(sessionId), LOCK),
          "exclusive",
          "parts of this session are still being uploaded: complete it once every part has been answered",
        ).fd;
      } catch (err) {
        if (isNotFound(err)) throw new MissingPartError(all); // no part was ever stored
        throw err;
      }
      try {
        const records = (await readRecords(recordsPath(sessionId))).slice(0, partCount);
        const missing = all.filter((n) => !records[n - 1]);
        if (missing.length > 0) throw new MissingPartError(missing);
        const parts = records as PartRecord[];
        let total = 0;
        for (const [i, r] of parts.entries()) {
          if (r.offset !== total)
            throw new BlobStoreError(
              `part ${i + 1} does not start where the parts before it end: send it again`,
            );
          total += r.size;
        }
        const path = dataPath(sessionId);
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
        const withSha1 = !opts?.skipSha1;
        const h = hashes.get(sessionId);
        hashes.delete(sessionId); // finished below, or cancelled
        let result: Partial<Record<Algorithm, string>> | undefined;
        let held = 0;
        if (
          h?.digest &&
          (h.sha1 || !withSha1) &&
          h.hashed.length <= partCount &&
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
          result = await digestFile(path, withSha1 ? ["sha256", "sha1"] : ["sha256"]).finish(total);
        }
        options.onAssemble?.({ sessionId, incremental: held > 0, partsRead: partCount - held });
        return stagedSession(sessionId, lock, {
          sha256: result.sha256 ?? "",
          sha1: result.sha1 ?? "",
          size: total,
        });
      } catch (err) {
        closeSync(lock);
        throw err;
      }
    },

    async discardAssembly(sessionId) {
      checkSessionId(sessionId);
      let lock: number;
      try {
        lock = lockedFile(
          join(partDir(sessionId), LOCK),
          "exclusive",
          "the upload session is being completed: wait for that answer",
        ).fd;
      } catch (err) {
        if (isNotFound(err)) return; // no part was ever stored: nothing was linked
        throw err;
      }
      try {
        await removeRecordedLinks(join(partDir(sessionId), LINKS), dataPath(sessionId), filePathOf);
      } finally {
        closeSync(lock);
      }
    },

    async availableBytes() {
      const fs = await statfs(root);
      return fs.bavail * fs.bsize;
    },

    async deleteParts(sessionId) {
      checkSessionId(sessionId);
      sessionFiles.delete(sessionId); // writers still at work keep their descriptors; later ones reopen
      const h = hashes.get(sessionId);
      if (h) dropHash(h);
      await removeFile(dataPath(sessionId));
      await rm(partDir(sessionId), { recursive: true, force: true });
    },
  };
}
