// Content and names: blob rows (one per distinct SHA-256, reference-counted) and the file rows that name
// them. Linking and garbage collection both go through conditional updates of the blob row, so a blob
// claimed for deletion is never linked again and a linked blob is never claimed.
import { num, setBlobCrc32, setBlobSha1 } from "./content-hashes.ts";
import type { Db } from "./db/database.ts";
import type { BlobsTable, FilesTable } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { insertOrUpdate } from "./db/upsert.ts";
import { insertGrams, nameKey } from "./name-index.ts";
import { ConflictPolicy, withPlacedName } from "./names.ts";
import { charge, giveBack, type Held, logicalBytes, type QuotaRules, UNLIMITED } from "./quota.ts";
import { enqueueTransfer } from "./transfer.ts";
import { DEFAULT_VERSIONS_KEEP, supersede } from "./versions.ts";

export type BlobRow = BlobsTable;
export type FileRow = FilesTable;

/** The content is being garbage-collected right now: store the bytes again as new content. */
export class BlobBusyError extends Error {}
export class BlobNotFoundError extends Error {}
export class FileNotFoundError extends Error {}
/** The target folder is not an active folder of the owner. */
export class FolderNotFoundError extends Error {}

export interface NewBlob {
  sha256: string;
  /** "" when not known yet (see setBlobSha1). */
  sha1: string;
  size: number;
  backend: string;
  location: string;
  /** The content's CRC-32 when the upload computed it (absent: not known, see setBlobCrc32). */
  crc32?: number;
}

export interface NewFile {
  ownerId: string;
  parentId: string;
  name: string;
  /** When the name is taken (names.ts; default FAIL). */
  onConflict?: ConflictPolicy;
  /** Versions a replaced file keeps (REPLACE). */
  versionsKeep?: number;
  /** The quota the new content is charged under (default: none), and what was held for it already. */
  quota?: QuotaRules;
  held?: Held;
}

function fileRow(f: NewFile, blob: { sha256: string; size: number }, now: number): FileRow {
  return {
    id: crypto.randomUUID(),
    owner_id: f.ownerId,
    parent_id: f.parentId,
    name: f.name,
    kind: "file",
    blob_sha256: blob.sha256,
    size: blob.size,
    status: "active",
    created_at: now,
    updated_at: now,
    deleted_at: null,
    trashed_with: null,
  };
}

/**
 * Serializes the owner's tree changes: this row lock (MySQL) or write lock (SQLite) is held until the
 * transaction ends, so checks like "the folder is active" or "the name is free" stay true until commit.
 * It must be a transaction's first statement (MySQL's snapshot starts with the first plain read).
 */
export async function lockOwner(tx: Db, ownerId: string): Promise<void> {
  await tx
    .updateTable("users")
    .set((eb) => ({ last_active_at: eb.ref("last_active_at") }))
    .where("id", "=", ownerId)
    .execute();
}

/** Throws FolderNotFoundError unless parentId is "" (the root) or an active folder of the owner. */
export async function requireFolder(tx: Db, ownerId: string, parentId: string): Promise<void> {
  if (parentId === "") return;
  const folder = await tx
    .selectFrom("files")
    .select("id")
    .where("id", "=", parentId)
    .where("owner_id", "=", ownerId)
    .where("kind", "=", "folder")
    .where("status", "=", "active")
    .executeTakeFirst();
  if (!folder) throw new FolderNotFoundError(parentId);
}

/**
 * Locks the owner's tree (see lockOwner) and checks the target folder. Also for the root: inserting the
 * file row then reads the owner's row for its foreign key (MySQL: a shared lock, taken after the content's
 * row), and two additions of one owner that took these two locks in opposite orders would deadlock.
 */
async function checkParent(tx: Db, file: NewFile): Promise<void> {
  await lockOwner(tx, file.ownerId);
  await requireFolder(tx, file.ownerId, file.parentId);
}

/** Adds one reference to a ready blob; false when there is no ready blob with that hash. */
async function reference(db: Db, sha256: string): Promise<boolean> {
  const res = await db
    .updateTable("blobs")
    .set((eb) => ({ refcount: eb("refcount", "+", 1), unreferenced_at: null }))
    .where("sha256", "=", sha256)
    .where("state", "=", "ready")
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Fresh bytes take over the row of the same content while garbage collection deletes the old bytes
 * (collection deletes only the location it claimed, and forgets the row only while it still names that
 * location). False when there is no such row, or it names this very location: those are the bytes being
 * deleted, so the caller waits for the row to go instead.
 */
async function takeOver(tx: Db, blob: NewBlob): Promise<boolean> {
  // An unknown SHA-1 or CRC-32 keeps the one the row may know.
  const { sha1, crc32, ...rest } = blob;
  const res = await tx
    .updateTable("blobs")
    .set({
      ...rest,
      ...(sha1 ? { sha1 } : {}),
      ...(crc32 !== undefined ? { crc32 } : {}),
      state: "ready",
      refcount: 1,
      unreferenced_at: null,
    })
    .where("sha256", "=", blob.sha256)
    .where("state", "=", "deleting")
    .where("location", "!=", blob.location)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Records a file for freshly stored content in one transaction. When the content was already known, the
 * existing blob gains a reference and `duplicateOf` names its location: the caller then drops its copy.
 * When the content is being garbage-collected, the fresh copy takes the row over (see takeOver), so the
 * upload succeeds at once. With `transfer` (the transfer storage policy), content on local disk gets a
 * transfer job in the same transaction (the outbox).
 *
 * The blob row is inserted first when absent (unreferenced, then referenced like any other), so that two
 * uploads of new content never deadlock on MySQL (see insertOrUpdate) and every path then works on an
 * existing, locked row.
 *
 * `within` runs in the transaction once the file row is written (it completes the upload session the
 * file comes from); what it throws rolls everything back.
 */
export async function addFileWithContent(
  db: Db,
  file: NewFile,
  blob: NewBlob,
  now: number,
  opts: { transfer?: boolean; within?: (tx: Db, file: FileRow) => Promise<void> } = {},
): Promise<{ file: FileRow; duplicateOf?: string }> {
  return transact(db, async (tx) => {
    await checkParent(tx, file);
    const fresh = {
      ...blob,
      crc32: blob.crc32 ?? null,
      state: "ready" as const,
      refcount: 0,
      created_at: now,
      unreferenced_at: null,
    };
    await insertOrUpdate(tx, tx.insertInto("blobs").values(fresh), ["sha256"]).execute();
    if (!(await reference(tx, blob.sha256)) && !(await takeOver(tx, blob)))
      throw new BlobBusyError(blob.sha256);
    const stored = await tx
      .selectFrom("blobs")
      .select(["location", "backend"])
      .where("sha256", "=", blob.sha256)
      .executeTakeFirstOrThrow();
    // A legacy upload of content whose SHA-1 is not known yet brings it along.
    if (blob.sha1) await setBlobSha1(tx, blob.sha256, blob.sha1);
    if (blob.crc32 !== undefined) await setBlobCrc32(tx, blob.sha256, blob.crc32);
    const row = await nameContent(tx, file, blob, now);
    await charge(tx, file.quota ?? UNLIMITED, file.ownerId, blob.size, file.held);
    if (opts.transfer && stored.backend === "local") await enqueueTransfer(tx, blob.sha256, now);
    await opts.within?.(tx, row);
    // Our own location recorded: the content is new (or taken over), there is no other copy.
    return { file: row, duplicateOf: stored.location === blob.location ? undefined : stored.location };
  });
}

/**
 * Gives referenced content its name in the folder under the file's conflict policy: a new file row, or
 * with REPLACE the existing file's new content (its previous one becomes a version). The reference the
 * caller took becomes the row's.
 */
async function nameContent(
  tx: Db,
  file: NewFile,
  blob: { sha256: string; size: number },
  now: number,
): Promise<FileRow> {
  return withPlacedName(tx, file, file.onConflict ?? ConflictPolicy.FAIL, async (p) => {
    if (p.replaces) {
      const target = await tx
        .selectFrom("files")
        .selectAll()
        .where("id", "=", p.replaces.id)
        .executeTakeFirstOrThrow();
      const next = { blob_sha256: blob.sha256, size: blob.size };
      await supersede(tx, num(target), next, now, file.versionsKeep ?? DEFAULT_VERSIONS_KEEP);
      return { ...num(target), ...next, created_at: Number(target.created_at), updated_at: now };
    }
    const row = fileRow({ ...file, name: p.name }, blob, now);
    // Indexed for search as it is written (rows written elsewhere without a key are indexed lazily).
    const keyed = { ...row, name_key: nameKey(row.name) };
    await tx.insertInto("files").values(keyed).execute();
    await insertGrams(tx, [keyed]);
    return row;
  });
}

/** Names existing content for a user (instant upload, after proof of possession). */
export async function addFileForExistingBlob(
  db: Db,
  file: NewFile,
  sha256: string,
  now: number,
): Promise<FileRow> {
  return transact(db, async (tx) => {
    await checkParent(tx, file);
    if (!(await reference(tx, sha256))) throw new BlobNotFoundError(sha256);
    const blob = await tx
      .selectFrom("blobs")
      .select(["sha256", "size"])
      .where("sha256", "=", sha256)
      .executeTakeFirstOrThrow();
    const row = await nameContent(tx, file, num(blob), now);
    // An instant upload is charged like a real one: deduplication is no free storage.
    await charge(tx, file.quota ?? UNLIMITED, file.ownerId, Number(blob.size), file.held);
    return row;
  });
}

/**
 * Removes a file row for good and drops its reference; the last reference starts the GC grace period.
 * Answers the content whose last reference went (the "blob unreferenced" events).
 */
export async function purgeFile(db: Db, ownerId: string, fileId: string, now: number): Promise<string[]> {
  return transact(db, async (tx) => {
    const unreferenced = await dropFileRow(tx, ownerId, fileId, now);
    if (!unreferenced) throw new FileNotFoundError(fileId);
    return unreferenced;
  });
}

/**
 * purgeFile's work inside the caller's transaction: the content whose last reference it dropped (the
 * file's and its versions'), or undefined when the owner has no such row.
 */
export async function dropFileRow(
  tx: Db,
  ownerId: string,
  fileId: string,
  now: number,
): Promise<string[] | undefined> {
  const file = await tx
    .selectFrom("files")
    .select(["blob_sha256", "kind", "size"])
    .where("id", "=", fileId)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!file) return undefined;
  const unreferenced: string[] = [];
  const drop = async (sha256: string | null) => {
    if (sha256 && (await release(tx, sha256, now)) && !unreferenced.includes(sha256))
      unreferenced.push(sha256);
  };
  await tx.deleteFrom("files").where("id", "=", fileId).execute();
  await drop(file.blob_sha256);
  // Its versions go with it, each dropping its own reference.
  const versions = await tx
    .selectFrom("file_versions")
    .select(["id", "blob_sha256", "size"])
    .where("file_id", "=", fileId)
    .where("owner_id", "=", ownerId)
    .execute();
  for (const v of versions) {
    await tx.deleteFrom("file_versions").where("id", "=", v.id).execute();
    await drop(v.blob_sha256);
  }
  // The owner's usage gets the file (a folder counts nothing) and its versions back.
  await giveBack(tx, ownerId, logicalBytes([file, ...versions]));
  return unreferenced;
}

/**
 * Drops one reference (a file row's or a version's); the last one starts the GC grace period. True when
 * it was the last: read back in the caller's transaction, which holds the row's lock from the update on
 * (neither dialect's UPDATE answers the new value).
 */
export async function release(tx: Db, sha256: string, now: number): Promise<boolean> {
  await tx
    .updateTable("blobs")
    // unreferenced_at first: MySQL evaluates assignments left to right with updated values.
    .set((eb) => ({
      unreferenced_at: eb.case().when("refcount", "=", 1).then(now).else(eb.ref("unreferenced_at")).end(),
      refcount: eb("refcount", "-", 1),
    }))
    .where("sha256", "=", sha256)
    .execute();
  const left = await tx
    .selectFrom("blobs")
    .select("refcount")
    .where("sha256", "=", sha256)
    .executeTakeFirst();
  return left !== undefined && Number(left.refcount) === 0;
}

export async function findBlob(db: Db, sha256: string): Promise<BlobRow | undefined> {
  const row = await db.selectFrom("blobs").selectAll().where("sha256", "=", sha256).executeTakeFirst();
  return row && { ...num(row), refcount: Number(row.refcount) };
}

/** A file of the owner, with its content's SHA-1. */
export async function findFile(
  db: Db,
  ownerId: string,
  id: string,
): Promise<(FileRow & { sha1: string }) | undefined> {
  const row = await db
    .selectFrom("files")
    .leftJoin("blobs", "blobs.sha256", "files.blob_sha256")
    .selectAll("files")
    .select("blobs.sha1")
    .where("files.id", "=", id)
    .where("files.owner_id", "=", ownerId)
    .executeTakeFirst();
  return row && { ...num(row), sha1: row.sha1 ?? "" };
}

export const STALE_CLAIM_MS = 15 * 60_000;

/**
 * Claims unreferenced blobs whose grace period is over for deletion. A claimed blob is never linked
 * again; delete its bytes at the claimed location, then forgetBlob(). A claim records its time in
 * unreferenced_at; claims older than staleClaimMs (a collector that died mid-way) are handed out again.
 */
export async function claimGarbage(
  db: Db,
  now: number,
  graceMs: number,
  limit = 100,
  staleClaimMs = STALE_CLAIM_MS,
): Promise<BlobRow[]> {
  const candidates = await db
    .selectFrom("blobs")
    .selectAll()
    .where("refcount", "=", 0)
    .where((eb) =>
      eb.or([
        eb.and([eb("state", "=", "ready"), eb("unreferenced_at", "<=", now - graceMs)]),
        eb.and([eb("state", "=", "deleting"), eb("unreferenced_at", "<=", now - staleClaimMs)]),
      ]),
    )
    .limit(limit)
    .execute();
  const claimed: BlobRow[] = [];
  for (const b of candidates) {
    // Conditional on the row being exactly as read: a concurrent link, takeover or claim wins.
    const res = await db
      .updateTable("blobs")
      .set({ state: "deleting", unreferenced_at: now })
      .where("sha256", "=", b.sha256)
      .where("refcount", "=", 0)
      .where("state", "=", b.state)
      .where("location", "=", b.location)
      .where("unreferenced_at", "=", b.unreferenced_at ?? 0)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1)
      claimed.push({ ...num(b), refcount: 0, state: "deleting", unreferenced_at: now });
  }
  return claimed;
}

/**
 * Drops the row of a claimed blob whose bytes were deleted. With a location, only while the row still
 * names it: new bytes of the same content may have taken the row over meanwhile.
 */
export async function forgetBlob(db: Db, sha256: string, location?: string): Promise<void> {
  let q = db.deleteFrom("blobs").where("sha256", "=", sha256).where("state", "=", "deleting");
  if (location !== undefined) q = q.where("location", "=", location);
  await q.execute();
}
