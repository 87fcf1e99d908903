// What a download needs in one query: the file, its content row and the generation of its download links
// (signed links name the generation they were issued for; revoking moves the file to the next one).

import type { BlobRow, FileRow } from "./content.ts";
import { FileNotFoundError } from "./content.ts";
import type { Db } from "./db/database.ts";
import { preparedQuery } from "./db/prepared.ts";
import { transact } from "./db/transact.ts";
import { insertOrUpdate } from "./db/upsert.ts";
import { ancestors } from "./tree.ts";

export interface DownloadTarget {
  file: FileRow;
  blob: BlobRow;
  linkGeneration: number;
  /** Reached through a share: when the share expires (epoch ms; null: never). */
  shareExpiresAt?: number | null;
}

/**
 * Which file: by id for its owner, by content (SHA-1) for its owner, or by id alone (signed links); with
 * versionId, that version's content (file.blob_sha256 and size then name the version's).
 */
export type TargetKey =
  | { fileId: string; ownerId?: string; versionId?: string; share?: ShareGate }
  | { ownerId: string; sha1: string };

/**
 * A share link the file is reached through (a share's download URL): the file is a target only while the
 * link answers at `now` (view mode, owner enabled, not expired, its target active; as shares.ts liveShare)
 * and holds the file (its target, or below it within `maxDepth` folders; as shares.ts shareItem).
 */
export interface ShareGate {
  id: string;
  now: number;
  maxDepth: number;
}

/** The file and its content row and link generation, for the conditions added to it. */
const targetQuery = (db: Db) =>
  db
    .selectFrom("files")
    .innerJoin("blobs", "blobs.sha256", "files.blob_sha256")
    .leftJoin("download_links", "download_links.file_id", "files.id")
    .selectAll("files")
    .select([
      "blobs.sha1",
      "blobs.backend",
      "blobs.location",
      "blobs.state",
      "blobs.refcount",
      "blobs.created_at as blob_created_at",
      "blobs.unreferenced_at",
      "download_links.generation",
    ])
    .where("files.status", "=", "active")
    .where("files.kind", "=", "file");

/**
 * The same with the link's check riding in the statement (a scalar subquery: the live link's target, else
 * null), asked afresh on every request, so a revoked or expired link stops at once on every replica; and
 * the link's expiry (a second subquery, given the share id again: `expiryOf`), which lets the download
 * worker keep the answer for a moment and still stop at the expiry (workers/download/share-liveness.ts).
 */
const gatedQuery = (db: Db, shareId: string, now: number, expiryOf: string) =>
  targetQuery(db)
    .select((eb) =>
      eb
        .selectFrom("shares as expiring")
        .select("expiring.expires_at")
        .where("expiring.id", "=", expiryOf)
        .as("share_expires_at"),
    )
    .select((eb) =>
      eb
        .selectFrom("shares")
        .innerJoin("users", "users.id", "shares.owner_id")
        .innerJoin("files as share_target", "share_target.id", "shares.target_id")
        .select("shares.target_id")
        .where("shares.id", "=", shareId)
        .whereRef("shares.owner_id", "=", "files.owner_id")
        .where("shares.mode", "=", "view")
        .where("share_target.status", "=", "active")
        .where("users.disabled_at", "is", null)
        .where((w) => w.or([w("shares.expires_at", "is", null), w("shares.expires_at", ">", now)]))
        .as("share_target_id"),
    );

/**
 * A shared file's row by id (the statement of every range request of a share's download URL): prepared,
 * since building it costs several times what running it does.
 */
const sharedRow = preparedQuery(["shareId", "now", "fileId", "expiryOf"] as const, (db, a) =>
  gatedQuery(db, a.shareId, a.now as unknown as number, a.expiryOf).where("files.id", "=", a.fileId),
);

type TargetRow = Omit<
  Awaited<ReturnType<typeof sharedRow>>[number],
  "share_target_id" | "share_expires_at"
> & {
  share_target_id?: string | null;
  share_expires_at?: number | string | null;
};

/** The row of a key (share_target_id only with a share). */
async function targetRow(db: Db, key: TargetKey): Promise<TargetRow | undefined> {
  if ("sha1" in key) {
    return targetQuery(db)
      .where("files.owner_id", "=", key.ownerId)
      .where("blobs.sha1", "=", key.sha1)
      .orderBy("files.created_at", "desc")
      .limit(1)
      .executeTakeFirst();
  }
  const { share } = key;
  if (share && key.ownerId === undefined)
    return (
      await sharedRow(db, { shareId: share.id, now: share.now, fileId: key.fileId, expiryOf: share.id })
    )[0];
  let q = share ? gatedQuery(db, share.id, share.now, share.id) : targetQuery(db);
  q = q.where("files.id", "=", key.fileId);
  if (key.ownerId !== undefined) q = q.where("files.owner_id", "=", key.ownerId);
  return q.executeTakeFirst();
}

/** An active file with content, or undefined (also for other users' files, folders and the trash). */
export async function getDownloadTarget(db: Db, key: TargetKey): Promise<DownloadTarget | undefined> {
  const share = "share" in key ? key.share : undefined;
  const row = await targetRow(db, key);
  if (!row) return undefined;
  const {
    sha1,
    backend,
    location,
    state,
    refcount,
    blob_created_at,
    unreferenced_at,
    generation,
    share_target_id,
    share_expires_at,
    ...file
  } = row;
  if (share && !(await sharedThrough(db, file, share_target_id, share.maxDepth))) return undefined;
  const shareExpiresAt = share_expires_at == null ? null : Number(share_expires_at);
  if ("versionId" in key && key.versionId) {
    const v = await versionTarget(db, file, Number(generation ?? 0), key.versionId);
    return v && { ...v, shareExpiresAt };
  }
  const size = Number(file.size);
  return {
    file: { ...file, size },
    blob: {
      sha256: file.blob_sha256 as string,
      sha1,
      size,
      backend,
      location,
      state,
      refcount: Number(refcount),
      created_at: Number(blob_created_at),
      unreferenced_at,
    },
    linkGeneration: Number(generation ?? 0),
    shareExpiresAt,
  };
}

/**
 * Whether a live link whose target is `targetId` (null: the link does not answer) holds `file`: the file
 * is the target (no further query: the common case of a shared file's range requests), or the target is
 * one of its folders.
 */
async function sharedThrough(
  db: Db,
  file: Pick<FileRow, "id" | "owner_id">,
  targetId: string | null | undefined,
  maxDepth: number,
): Promise<boolean> {
  if (!targetId) return false;
  if (targetId === file.id) return true;
  return (await ancestors(db, file.owner_id, file.id, maxDepth + 1)).includes(targetId);
}

/** Revokes every link issued so far for a file of the owner; returns the new generation. */
export async function revokeDownloadLinks(
  db: Db,
  ownerId: string,
  fileId: string,
  now: number,
): Promise<number> {
  return transact(db, async (tx) => {
    const file = await tx
      .selectFrom("files")
      .select("id")
      .where("id", "=", fileId)
      .where("owner_id", "=", ownerId)
      .executeTakeFirst();
    if (!file) throw new FileNotFoundError(fileId);
    // A file without a row is at generation 0: the row goes in first, then every revocation bumps it
    // (the shape that does not deadlock, see insertOrUpdate).
    const first = { file_id: fileId, generation: 0, revoked_at: now };
    await insertOrUpdate(tx, tx.insertInto("download_links").values(first), ["file_id"]).execute();
    await tx
      .updateTable("download_links")
      .set((eb) => ({ generation: eb("generation", "+", 1), revoked_at: now }))
      .where("file_id", "=", fileId)
      .execute();
    const row = await tx
      .selectFrom("download_links")
      .select("generation")
      .where("file_id", "=", fileId)
      .executeTakeFirstOrThrow();
    return Number(row.generation);
  });
}

/** The download target of one version of the file `row` (undefined when the file has no such version). */
async function versionTarget(
  db: Db,
  file: FileRow,
  linkGeneration: number,
  versionId: string,
): Promise<DownloadTarget | undefined> {
  const v = await db
    .selectFrom("file_versions")
    .innerJoin("blobs", "blobs.sha256", "file_versions.blob_sha256")
    .selectAll("blobs")
    .where("file_versions.id", "=", versionId)
    .where("file_versions.file_id", "=", file.id)
    .executeTakeFirst();
  if (!v) return undefined;
  const size = Number(v.size);
  return {
    file: { ...file, blob_sha256: v.sha256, size },
    blob: { ...v, size, refcount: Number(v.refcount), created_at: Number(v.created_at) },
    linkGeneration,
  };
}
