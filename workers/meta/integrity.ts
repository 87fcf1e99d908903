// The database's side of the consistency checker (fsck; the file worker walks the backends, see
// workers/file/fsck.ts): blob rows a page at a time with their reference counts recounted from the file and
// version tables (and corrected with `repair`), the files a blob's content belongs to (to name what a
// missing blob breaks), and which of a backend's object locations the database knows. Usage drift is
// quota.ts's recountUsage (dry run or not).
import type { Db } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import { transact } from "./db/transact.ts";

export interface CheckedBlob {
  sha256: string;
  backend: string;
  location: string;
  size: number;
  /** The stored count before any repair. */
  refcount: number;
  /** File rows (active or trashed) plus versions that name this content. */
  counted: number;
}

/** A blob's references counted from the tables (files_blob, file_versions_blob indexes). */
async function countedRefs(db: Db, sha256: string): Promise<number> {
  // One after the other: inside a transaction both run on its one connection anyway.
  const f = await db
    .selectFrom("files")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("blob_sha256", "=", sha256)
    .executeTakeFirstOrThrow();
  const v = await db
    .selectFrom("file_versions")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("blob_sha256", "=", sha256)
    .executeTakeFirstOrThrow();
  return Number(f.n) + Number(v.n);
}

/**
 * Up to `limit` ready blobs after `afterSha256` (keyset: memory stays flat), each with its stored and
 * counted references. Blobs being collected ("deleting") are GC's and left out.
 */
export async function checkBlobPage(db: Db, afterSha256: string, limit: number): Promise<CheckedBlob[]> {
  const rows = await db
    .selectFrom("blobs as b")
    .select(["b.sha256", "b.backend", "b.location", "b.size", "b.refcount"])
    .select((eb) => [
      eb
        .selectFrom("files")
        .select((s) => s.fn.countAll().as("n"))
        .whereRef("files.blob_sha256", "=", "b.sha256")
        .as("file_refs"),
      eb
        .selectFrom("file_versions")
        .select((s) => s.fn.countAll().as("n"))
        .whereRef("file_versions.blob_sha256", "=", "b.sha256")
        .as("version_refs"),
    ])
    .where("b.state", "=", "ready")
    .where("b.sha256", ">", afterSha256)
    .orderBy("b.sha256")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    sha256: r.sha256,
    backend: r.backend,
    location: r.location,
    size: Number(r.size),
    refcount: Number(r.refcount),
    counted: Number(r.file_refs ?? 0) + Number(r.version_refs ?? 0),
  }));
}

/**
 * Sets a ready blob's reference count to what the tables say, in a short transaction that first locks the
 * blob row: linking and releasing both update that row, so every change is either counted or applied after
 * (a release waits and then decrements the corrected count). A count that reaches 0 starts GC's grace
 * period now (unless it had started). Returns the count before and after, or undefined when the row is not
 * a ready blob any more or did not drift.
 */
export async function repairRefcount(
  db: Db,
  sha256: string,
  now: number,
): Promise<{ before: number; after: number } | undefined> {
  return transact(db, async (tx) => {
    let q = tx
      .selectFrom("blobs")
      .select(["refcount", "unreferenced_at"])
      .where("sha256", "=", sha256)
      .where("state", "=", "ready");
    if (isMysql(tx)) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) return undefined;
    const before = Number(row.refcount);
    const after = await countedRefs(tx, sha256);
    if (before === after) return undefined;
    await tx
      .updateTable("blobs")
      .set({ refcount: after, unreferenced_at: after === 0 ? (row.unreferenced_at ?? now) : null })
      .where("sha256", "=", sha256)
      .execute();
    return { before, after };
  });
}

export interface BlobReference {
  ownerId: string;
  username: string;
  fileId: string;
  name: string;
  /** A version of the file rather than its current content. */
  version: boolean;
}

/** Up to `limit` files (and file versions) whose content is `sha256`, with their owners' usernames. */
export async function blobReferences(db: Db, sha256: string, limit: number): Promise<BlobReference[]> {
  const current = await db
    .selectFrom("files")
    .innerJoin("users", "users.id", "files.owner_id")
    .select(["files.id", "files.owner_id", "files.name", "users.username"])
    .where("files.blob_sha256", "=", sha256)
    .orderBy("files.id")
    .limit(limit)
    .execute();
  const refs: BlobReference[] = current.map((r) => ({
    ownerId: r.owner_id,
    username: r.username,
    fileId: r.id,
    name: r.name,
    version: false,
  }));
  if (refs.length >= limit) return refs;
  const versions = await db
    .selectFrom("file_versions as v")
    .innerJoin("files", "files.id", "v.file_id")
    .innerJoin("users", "users.id", "v.owner_id")
    .select(["files.id", "v.owner_id", "files.name", "users.username"])
    .where("v.blob_sha256", "=", sha256)
    .orderBy("v.id")
    .limit(limit - refs.length)
    .execute();
  for (const r of versions)
    refs.push({ ownerId: r.owner_id, username: r.username, fileId: r.id, name: r.name, version: true });
  return refs;
}

/**
 * Which of `locations` (on `backend`) the database does not know: no blob row (ready or being collected),
 * no thumbnail, and no transfer job that writes there or left a copy there. Each lookup is on an index
 * (migration 0025).
 */
export async function unknownLocations(db: Db, backend: string, locations: string[]): Promise<string[]> {
  if (locations.length === 0) return [];
  const [blobs, derived, targets, leftovers] = await Promise.all([
    db
      .selectFrom("blobs")
      .select("location")
      .where("backend", "=", backend)
      .where("location", "in", locations)
      .execute(),
    db
      .selectFrom("derived_blobs")
      .select("location")
      .where("backend", "=", backend)
      .where("location", "in", locations)
      .execute(),
    // A transfer writes to S3 and leaves the local copy; the job records neither backend, so either side's
    // name counts whatever the backend (locations of the two backends never look alike).
    db
      .selectFrom("transfer_jobs")
      .select("target_location as location")
      .where("target_location", "in", locations)
      .execute(),
    db
      .selectFrom("transfer_jobs")
      .select("cleanup_location as location")
      .where("cleanup_location", "in", locations)
      .execute(),
  ]);
  const known = new Set<string | null>(
    [...blobs, ...derived, ...targets, ...leftovers].map((r) => r.location),
  );
  return locations.filter((l) => !known.has(l));
}

/**
 * Points a ready blob at `to` (new bytes of its content on the same backend) if it still names `from`:
 * the scrub's repair of content whose bytes rotted. False when the row changed meanwhile.
 */
export async function replaceLocation(db: Db, sha256: string, from: string, to: string): Promise<boolean> {
  const res = await db
    .updateTable("blobs")
    .set({ location: to })
    .where("sha256", "=", sha256)
    .where("location", "=", from)
    .where("state", "=", "ready")
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
