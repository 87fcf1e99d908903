// What a consistency check (fsck.ts) found: per kind of problem a count, the bytes concerned and the first
// ITEMS_KEPT items (the rest only counted, so that a check of a damaged instance stays small in memory).

/** Items of each kind a report keeps. */
export const ITEMS_KEPT = 100;

export interface FileRef {
  ownerId: string;
  username: string;
  fileId: string;
  name: string;
  version: boolean;
}

/** A blob row whose bytes are missing (foundSize undefined) or of another size than recorded. */
export interface MissingBlob {
  sha256: string;
  backend: string;
  location: string;
  size: number;
  foundSize?: number;
  /** The files (and versions) whose content it is: what is broken. */
  files: FileRef[];
}

/** Bytes on a backend that no blob row, thumbnail or transfer job names. */
export interface OrphanObject {
  backend: string;
  location: string;
  size: number;
  changedAt: number;
  /** Deleted by this run (repair). */
  deleted: boolean;
}

export interface RefcountDrift {
  sha256: string;
  stored: number;
  counted: number;
  repaired: boolean;
}

export interface UsageDrift {
  userId: string;
  usedBefore: number;
  usedAfter: number;
  reservedBefore: number;
  reservedAfter: number;
  repaired: boolean;
}

/** An upload session past its expiry that no sweep removed. */
export interface StuckSession {
  id: string;
  ownerId: string;
  name: string;
  size: number;
  state: string;
  expiresAt: number;
  cleaned: boolean;
}

/** A transfer job in flight without a sign of life, or dead. */
export interface StuckTransfer {
  sha256: string;
  state: string;
  attempts: number;
  lastError: string;
  /** The copy its last attempt wrote and never switched to ("" if none). */
  targetLocation: string;
  updatedAt: number;
  size: number;
  cleaned: boolean;
}

/** Bytes due for deletion and not deleted: unreferenced content, or a moved blob's local copy. */
export interface PendingDeletion {
  kind: string;
  sha256: string;
  backend: string;
  location: string;
  size: number;
  since: number;
  cleaned: boolean;
}

/** Content whose bytes no longer hash to its SHA-256 (the scrub). */
export interface CorruptBlob {
  sha256: string;
  backend: string;
  location: string;
  size: number;
  foundSha256: string;
  files: FileRef[];
  repaired: boolean;
  /** backend:location of the copy it was restored from. */
  repairedFrom: string;
}

export interface Tally<T> {
  count: number;
  bytes: number;
  items: T[];
}

export interface FsckReport {
  repair: boolean;
  blobsChecked: number;
  objectsListed: number;
  usersChecked: number;
  /** Objects younger than the grace period: an upload or transfer may still claim them; not judged. */
  youngObjectsSkipped: number;
  /** Blob rows on a backend this worker has no store (or no listing) for: not checked. */
  blobsOnUnavailableBackends: number;
  missing: Tally<MissingBlob>;
  wrongSize: Tally<MissingBlob>;
  orphans: Tally<OrphanObject>;
  /** Orphans this run deleted (repair), and those whose delete failed (retried by the next run). */
  orphansDeleted: number;
  orphanDeleteFailures: number;
  refcountDrifts: Tally<RefcountDrift>;
  usageDrifts: Tally<UsageDrift>;
  /** Stuck work (deadline passed more than the grace period ago): counted by meta, the first items kept. */
  stuckSessions: Tally<StuckSession>;
  stuckTransfers: Tally<StuckTransfer>;
  pendingDeletions: Tally<PendingDeletion>;
  /** Stuck items this run cleaned up (repair), and those still stuck after it. */
  stuckCleaned: number;
  stuckCleanFailures: number;
  /** The scrub ran (requested). */
  scrubbed: boolean;
  scrubbedBlobs: number;
  scrubbedBytes: number;
  corrupt: Tally<CorruptBlob>;
  corruptRepaired: number;
}

const tally = <T>(): Tally<T> => ({ count: 0, bytes: 0, items: [] });

export function emptyReport(repair: boolean): FsckReport {
  return {
    repair,
    blobsChecked: 0,
    objectsListed: 0,
    usersChecked: 0,
    youngObjectsSkipped: 0,
    blobsOnUnavailableBackends: 0,
    missing: tally(),
    wrongSize: tally(),
    orphans: tally(),
    orphansDeleted: 0,
    orphanDeleteFailures: 0,
    refcountDrifts: tally(),
    usageDrifts: tally(),
    stuckSessions: tally(),
    stuckTransfers: tally(),
    pendingDeletions: tally(),
    stuckCleaned: 0,
    stuckCleanFailures: 0,
    scrubbed: false,
    scrubbedBlobs: 0,
    scrubbedBytes: 0,
    corrupt: tally(),
    corruptRepaired: 0,
  };
}

/** Counts one item of a kind (and its bytes), keeping it while fewer than ITEMS_KEPT are kept. */
export function add<T>(t: Tally<T>, item: T, bytes = 0): void {
  t.count++;
  t.bytes += bytes;
  if (t.items.length < ITEMS_KEPT) t.items.push(item);
}

/** True when the report found nothing to fix: what a second run after a repair must say. */
export const isClean = (r: FsckReport): boolean =>
  r.missing.count +
    r.wrongSize.count +
    r.orphans.count +
    r.refcountDrifts.count +
    r.usageDrifts.count +
    stuckCount(r) +
    r.corrupt.count ===
  0;

export const stuckCount = (r: FsckReport): number =>
  r.stuckSessions.count + r.stuckTransfers.count + r.pendingDeletions.count;
