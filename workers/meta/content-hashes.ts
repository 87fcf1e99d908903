// Checksums recorded beside a blob after it was stored: the SHA-1 (legacy clients' instant upload; modern
// uploads record "" and the upload worker computes it in the background) and the CRC-32 (folder ZIPs).
import type { BlobRow } from "./content.ts";
import type { Db } from "./db/database.ts";

/** Sizes come back from MariaDB as strings for BIGINT columns. */
export const num = <T extends { size: number }>(r: T): T => ({ ...r, size: Number(r.size) });

/** Ready content with this SHA-1; with ownerId, only content that user holds a file of. */
export async function findBlobBySha1(db: Db, sha1: string, ownerId?: string): Promise<BlobRow | undefined> {
  let q = db
    .selectFrom("blobs")
    .selectAll("blobs")
    .where("blobs.sha1", "=", sha1)
    .where("blobs.state", "=", "ready");
  if (ownerId) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("files")
          .select("files.id")
          .whereRef("files.blob_sha256", "=", "blobs.sha256")
          .where("files.owner_id", "=", ownerId),
      ),
    );
  }
  const row = await q.executeTakeFirst();
  return row && { ...num(row), refcount: Number(row.refcount) };
}

/** Records a blob's SHA-1 if it is still unknown; true when this call recorded it. */
export async function setBlobSha1(db: Db, sha256: string, sha1: string): Promise<boolean> {
  const res = await db
    .updateTable("blobs")
    .set({ sha1 })
    .where("sha256", "=", sha256)
    .where("sha1", "=", "")
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Records a blob's CRC-32 if it is still unknown (a folder ZIP computed it over the bytes it sent, or an
 * upload brought it for content stored before); true when this call recorded it.
 */
export async function setBlobCrc32(db: Db, sha256: string, crc32: number): Promise<boolean> {
  const res = await db
    .updateTable("blobs")
    .set({ crc32 })
    .where("sha256", "=", sha256)
    .where("crc32", "is", null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Ready blobs whose SHA-1 is not known yet, by SHA-256 after `afterSha256` (a page of the sweep). */
export async function blobsWithoutSha1(db: Db, afterSha256: string, limit: number): Promise<BlobRow[]> {
  const rows = await db
    .selectFrom("blobs")
    .selectAll()
    .where("sha1", "=", "")
    .where("state", "=", "ready")
    .where("sha256", ">", afterSha256)
    .orderBy("sha256")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...num(r), refcount: Number(r.refcount) }));
}
