// File versions: replacing a file's content (conflict policy REPLACE, RestoreVersion) keeps the entry (id,
// path, links) and turns its previous content into a version. A version holds one reference to its blob,
// so moving content between a file and its versions never changes a refcount; dropping a version releases
// its reference, and garbage collection frees the bytes once nothing names them.
// Retention: at most `keep` versions per file (trimmed at once when a new one appears, oldest first), and
// none older than the file worker's maximum age (pruneVersions, its periodic pass).
import { FileNotFoundError, release } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { FileVersionsTable } from "./db/schema.ts";
import { entry, type ListedFile, ownerTransaction, TrashStateError } from "./files.ts";
import { giveBack } from "./quota.ts";

export const DEFAULT_VERSIONS_KEEP = 10;

export class VersionNotFoundError extends Error {
  constructor(readonly versionId: string) {
    super("no such version of this file");
  }
}

export type VersionRow = FileVersionsTable & { sha1: string };

const num = (r: FileVersionsTable & { sha1: string | null }): VersionRow => ({
  ...r,
  size: Number(r.size),
  created_at: Number(r.created_at),
  archived_at: Number(r.archived_at),
  sha1: r.sha1 ?? "",
});

/** The file's content as it stands: what becomes a version when it is replaced. */
interface Current {
  id: string;
  owner_id: string;
  blob_sha256: string | null;
  size: number;
  updated_at: number;
}

/**
 * Makes `next` the file's content and its current content a version, then trims the versions past
 * `keep`. The caller brings next's reference (a new link, or one taken from a row it removes).
 */
export async function supersede(
  tx: Db,
  file: Current,
  next: { blob_sha256: string | null; size: number },
  now: number,
  keep: number,
): Promise<void> {
  await tx
    .insertInto("file_versions")
    .values({
      id: crypto.randomUUID(),
      file_id: file.id,
      owner_id: file.owner_id,
      blob_sha256: file.blob_sha256,
      size: file.size,
      created_at: file.updated_at,
      archived_at: now,
    })
    .execute();
  await tx
    .updateTable("files")
    .set({ blob_sha256: next.blob_sha256, size: next.size, updated_at: now })
    .where("id", "=", file.id)
    .execute();
  await trimVersions(tx, file.id, keep, now);
}

/** Drops the file's versions past the newest `keep`. */
export async function trimVersions(tx: Db, fileId: string, keep: number, now: number): Promise<number> {
  const extra = await tx
    .selectFrom("file_versions")
    .select(["id", "blob_sha256", "owner_id", "size"])
    .where("file_id", "=", fileId)
    .orderBy("archived_at", "desc")
    .orderBy("id", "desc")
    .offset(Math.max(0, keep))
    .limit(1_000_000)
    .execute();
  for (const v of extra) await dropVersion(tx, v, now);
  return extra.length;
}

/** Drops a version for good: its reference, and its bytes from its owner's usage. */
async function dropVersion(
  tx: Db,
  v: { id: string; blob_sha256: string | null; owner_id: string; size: number | string },
  now: number,
): Promise<void> {
  await tx.deleteFrom("file_versions").where("id", "=", v.id).execute();
  if (v.blob_sha256) await release(tx, v.blob_sha256, now);
  await giveBack(tx, v.owner_id, Number(v.size));
}

/**
 * Replaces the active file targetId by the entry `incoming` (a file being moved or restored onto its
 * name): incoming's row goes, its reference becomes the target's content, the target's content a version.
 */
export async function replaceWithEntry(
  tx: Db,
  ownerId: string,
  targetId: string,
  incoming: { id: string; blob_sha256: string | null; size: number },
  now: number,
  keep: number,
): Promise<ListedFile> {
  const target = await entry(tx, ownerId, targetId);
  await tx.deleteFrom("files").where("id", "=", incoming.id).execute();
  await supersede(tx, target, incoming, now, keep);
  return entry(tx, ownerId, targetId);
}

const versionsOf = (db: Db, fileId: string) =>
  db
    .selectFrom("file_versions")
    .leftJoin("blobs", "blobs.sha256", "file_versions.blob_sha256")
    .selectAll("file_versions")
    .select("blobs.sha1")
    .where("file_versions.file_id", "=", fileId);

/** The file's versions, newest first; FileNotFoundError when the owner has no such file. */
export async function listVersions(db: Db, ownerId: string, fileId: string): Promise<VersionRow[]> {
  const file = await entry(db, ownerId, fileId);
  if (file.kind !== "file") return [];
  const rows = await versionsOf(db, fileId)
    .orderBy("file_versions.archived_at", "desc")
    .orderBy("file_versions.id", "desc")
    .execute();
  return rows.map(num);
}

/** One version of the owner's file (VersionNotFoundError / FileNotFoundError). */
export async function findVersion(db: Db, ownerId: string, fileId: string, versionId: string) {
  await entry(db, ownerId, fileId);
  const row = await versionsOf(db, fileId).where("file_versions.id", "=", versionId).executeTakeFirst();
  if (!row) throw new VersionNotFoundError(versionId);
  return num(row);
}

/** Makes a version the file's content again; the current content becomes a version. */
export async function restoreVersion(
  db: Db,
  ownerId: string,
  fileId: string,
  versionId: string,
  now: number,
  keep: number,
): Promise<ListedFile> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const file = await entry(tx, ownerId, fileId);
    if (file.status !== "active") throw new TrashStateError("this entry is in the trash: restore it first");
    const v = await findVersion(tx, ownerId, fileId, versionId);
    // The version's reference becomes the file's: its row goes, no refcount changes.
    await tx.deleteFrom("file_versions").where("id", "=", versionId).execute();
    await supersede(tx, file, v, now, keep);
    return entry(tx, ownerId, fileId);
  });
}

/** Deletes one version for good, releasing its reference. */
export async function deleteVersion(
  db: Db,
  ownerId: string,
  fileId: string,
  versionId: string,
  now: number,
): Promise<void> {
  await ownerTransaction(db, ownerId, async (tx) => {
    const v = await findVersion(tx, ownerId, fileId, versionId);
    await dropVersion(tx, v, now);
  });
}

/**
 * The retention pass: drops versions archived before now - maxAgeMs, and trims files holding more than
 * `keep` (after a lower VERSIONS_KEEP). At most `limit` of each per call; returns how many went.
 */
export async function pruneVersions(
  db: Db,
  now: number,
  maxAgeMs: number,
  keep: number,
  limit = 500,
): Promise<number> {
  const old = await db
    .selectFrom("file_versions")
    .select(["id", "owner_id", "blob_sha256"])
    .where("archived_at", "<", now - maxAgeMs)
    .limit(limit)
    .execute();
  let dropped = 0;
  for (const v of old) {
    dropped += await ownerTransaction(db, v.owner_id, async (tx) => {
      const still = await tx
        .selectFrom("file_versions")
        .select(["id", "blob_sha256", "owner_id", "size"])
        .where("id", "=", v.id)
        .executeTakeFirst();
      if (!still) return 0;
      await dropVersion(tx, still, now);
      return 1;
    });
  }
  const crowded = await db
    .selectFrom("file_versions")
    .select(["file_id", "owner_id"])
    .groupBy(["file_id", "owner_id"])
    .having((eb) => eb.fn.countAll(), ">", keep)
    .limit(limit)
    .execute();
  for (const f of crowded)
    dropped += await ownerTransaction(db, f.owner_id, (tx) => trimVersions(tx, f.file_id, keep, now));
  return dropped;
}

export { FileNotFoundError };
