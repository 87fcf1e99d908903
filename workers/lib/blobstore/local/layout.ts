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
//                                written down before the link (links.ts)
// A body is written to tmp/ while digest lanes hash it (digest.ts), renamed into place atomically, and then
// its bytes and the directory are synced side by side (one wait for the disk, not two in a row) before
// the location is handed out: a name that a blob row holds always names complete content. A crash during
// those syncs can leave a name under blobs/ with partial bytes and no row: an orphan, which fsck reports
// and removes.
import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import { InvalidLocationError } from "../errors.ts";

const LOCATION = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{12})$/;

/** A fresh location for content with this SHA-256 (each stored copy has its own; see StagedBlob.commit). */
export function newLocalLocation(sha256: string): string {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 12);
  return `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${suffix}`;
}

/** The paths under a local store's root. */
export interface Layout {
  root: string;
  tmpDir: string;
  blobsDir: string;
  partsDir: string;
  partDir(sessionId: string): string;
  /** The session's file. */
  dataPath(sessionId: string): string;
  /** Its part records (records.ts). */
  recordsPath(sessionId: string): string;
  /** The session's lock: part writers share it, completion holds it alone. */
  lockPath(sessionId: string): string;
  /** Part n's lock. */
  partLockPath(sessionId: string, partNumber: number): string;
  /** The names completion linked the session's file to (links.ts). */
  linksPath(sessionId: string): string;
  /** The file of a committed blob's location; InvalidLocationError for anything else. */
  filePathOf(location: string): string;
}

export function layoutOf(root: string): Layout {
  root = resolve(root);
  const partsDir = join(root, "parts");
  const partDir = (sessionId: string) => join(partsDir, sessionId);
  return {
    root,
    tmpDir: join(root, "tmp"),
    blobsDir: join(root, "blobs"),
    partsDir,
    partDir,
    dataPath: (sessionId) => join(partsDir, sessionId, "data"),
    recordsPath: (sessionId) => join(partsDir, sessionId, "records"),
    lockPath: (sessionId) => join(partsDir, sessionId, "lock"),
    partLockPath: (sessionId, partNumber) => join(partsDir, sessionId, `${partNumber}.lock`),
    linksPath: (sessionId) => join(partsDir, sessionId, "links"),
    filePathOf(location) {
      const m = typeof location === "string" ? LOCATION.exec(location) : null;
      if (!m || m[3]?.slice(0, 2) !== m[1] || m[3]?.slice(2, 4) !== m[2])
        throw new InvalidLocationError(location);
      return join(root, location);
    },
  };
}
