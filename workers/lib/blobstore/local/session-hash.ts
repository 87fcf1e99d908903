// Whole-file hashes of multipart sessions (local store): so that completing a session does not read the
// whole file again, this process hands the session's file to a digest lane (in the background, off the
// event loop) as far as parts 1..k are complete, as it stores them in any order. The records of the parts
// handed are kept; completion uses the hash only when they all still match the records on disk, and reads
// the file again otherwise (another replica stored parts, this process restarted, a part was re-sent):
// correctness never depends on this state.
import { type Algorithm, digestFile, type FileDigest } from "../digest.ts";
import type { PartRecord } from "./records.ts";

/** What a session's whole file is hashed with: SHA-256 and CRC-32, and SHA-1 when it is wanted. */
export const wholeFileAlgorithms = (sha1: boolean): Algorithm[] =>
  sha1 ? ["sha256", "sha1", "crc32"] : ["sha256", "crc32"];

export interface SessionHash {
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

export interface SessionHashOptions {
  /** Sessions hashed at once (least recently used dropped beyond); 0 turns it off. */
  maxHashes: number;
  /** A hash untouched this long (ms) is dropped (its session may have died elsewhere). */
  idleMs: number;
  /** The session's file. */
  dataPath: (sessionId: string) => string;
}

export class SessionHashes {
  private readonly hashes = new Map<string, SessionHash>(); // in least recently used order
  private readonly idleSweep: ReturnType<typeof setInterval>;

  constructor(private readonly options: SessionHashOptions) {
    const { idleMs } = options;
    this.idleSweep = setInterval(
      () => {
        for (const h of [...this.hashes.values()]) if (Date.now() - h.touched > idleMs) this.dropHash(h);
      },
      Math.min(60_000, idleMs),
    );
    this.idleSweep.unref();
  }

  /** Stops the idle sweep and cancels every hash. */
  close(): void {
    clearInterval(this.idleSweep);
    for (const h of [...this.hashes.values()]) this.dropHash(h);
  }

  /** The session's hash, no longer followed (completion finishes or cancels it). */
  take(sessionId: string): SessionHash | undefined {
    const h = this.hashes.get(sessionId);
    this.hashes.delete(sessionId);
    return h;
  }

  drop(sessionId: string): void {
    const h = this.hashes.get(sessionId);
    if (h) this.dropHash(h);
  }

  private dropHash(h: SessionHash): void {
    if (this.hashes.get(h.sessionId) === h) this.hashes.delete(h.sessionId);
    h.digest?.cancel();
  }

  private advance(h: SessionHash): void {
    for (let k = h.hashed.length + 1; ; k++) {
      const r = h.waiting.get(k);
      if (!r || r.offset !== h.end) break;
      h.waiting.delete(k);
      h.hashed.push(r);
      h.end += r.size;
    }
    if (h.hashed.length === 0) return;
    h.digest ??= digestFile(this.options.dataPath(h.sessionId), wholeFileAlgorithms(h.sha1), {
      background: true,
    });
    h.digest.written(h.end);
  }

  /** A fresh hash of the session (all parts waiting again but `except`), in place of `old`. */
  private restart(old: SessionHash | undefined, sessionId: string, sha1: boolean, except?: number) {
    const h: SessionHash = { sessionId, sha1, hashed: [], end: 0, waiting: new Map(), touched: Date.now() };
    if (old) {
      this.dropHash(old);
      for (const [i, r] of old.hashed.entries()) h.waiting.set(i + 1, r);
      for (const [k, r] of old.waiting) h.waiting.set(k, r);
      if (except !== undefined) h.waiting.delete(except);
    }
    this.hashes.set(sessionId, h);
    return h;
  }

  /** Part n is about to be written: a hash that has read its old bytes is void. */
  partWriting(sessionId: string, n: number): void {
    const h = this.hashes.get(sessionId);
    if (!h) return;
    h.waiting.delete(n);
    if (n <= h.hashed.length) this.advance(this.restart(h, sessionId, h.sha1, n));
  }

  /** Part n is complete on disk with record `r`. */
  partStored(sessionId: string, n: number, r: PartRecord, sha1: boolean): void {
    const { hashes } = this;
    if (this.options.maxHashes <= 0) return;
    const old = hashes.get(sessionId);
    // SHA-1 wanted now (a later part said so): start again with it.
    const h = old && (!sha1 || old.sha1) ? old : this.restart(old, sessionId, sha1 || old?.sha1 === true);
    hashes.delete(sessionId);
    for (const [, lru] of hashes) {
      if (hashes.size < this.options.maxHashes) break;
      this.dropHash(lru);
    }
    hashes.set(sessionId, h); // most recently used
    h.touched = Date.now();
    h.waiting.set(n, r);
    this.advance(h);
  }
}
