// Derived blobs (thumbnails): rows keyed by content and kind, the content the thumbnail sweep has not
// looked at yet, a page of files resolved to their thumbnail rows, and the rows whose content is gone.
import { sql } from "kysely";
import type { Db } from "./db/database.ts";
import { isUniqueViolation } from "./db/database.ts";
import type { DerivedBlobsTable } from "./db/schema.ts";

export type DerivedRow = Omit<DerivedBlobsTable, "created_at">;

export interface Candidate {
  sha256: string;
  size: number;
  backend: string;
  location: string;
  /** The smallest name an active file gives the content; "" when none does (only trashed files). */
  name: string;
  created_at: number;
}

/**
 * Ready content after the cursor (created_at, then sha256) without a row of `kind`, oldest first: an index
 * range over blobs_created, whatever the table's size.
 */
export async function listCandidates(
  db: Db,
  kind: string,
  after: { createdAt: number; sha256: string },
  limit: number,
): Promise<Candidate[]> {
  const rows = await db
    .selectFrom("blobs as b")
    .select(["b.sha256", "b.size", "b.backend", "b.location", "b.created_at"])
    // The files of the content by files_blob, the status tested on each: a condition on status in the
    // WHERE let SQLite (without statistics) pick the status index, a scan of every active file per row.
    .select((eb) =>
      eb
        .selectFrom("files as f")
        .select((e) =>
          e.fn
            .min(e.case().when("f.status", "=", "active").then(e.ref("f.name")).else(sql<string>`null`).end())
            .as("n"),
        )
        .whereRef("f.blob_sha256", "=", "b.sha256")
        .as("name"),
    )
    .where("b.state", "=", "ready")
    // The keyset cursor: `created_at >=` starts an index range (the OR alone made it a scan from the first row).
    .where("b.created_at", ">=", after.createdAt)
    .where((eb) =>
      eb.or([
        eb("b.created_at", ">", after.createdAt),
        eb.and([eb("b.created_at", "=", after.createdAt), eb("b.sha256", ">", after.sha256)]),
      ]),
    )
    // Without a row of the kind: an outer join by its primary key (MariaDB ran NOT EXISTS as a scan of
    // every derived row).
    .leftJoin("derived_blobs as d", (join) => join.onRef("d.sha256", "=", "b.sha256").on("d.kind", "=", kind))
    .where("d.sha256", "is", null)
    .orderBy("b.created_at")
    .orderBy("b.sha256")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    sha256: r.sha256,
    size: Number(r.size),
    backend: r.backend,
    location: r.location,
    name: (r.name as string | null) ?? "",
    created_at: Number(r.created_at),
  }));
}

/**
 * Records a derived row unless one exists or the content is no longer ready; true when this call did
 * (otherwise the caller deletes the bytes it stored).
 */
export async function putDerived(db: Db, row: DerivedRow, now: number): Promise<boolean> {
  const content = await db
    .selectFrom("blobs")
    .select("sha256")
    .where("sha256", "=", row.sha256)
    .where("state", "=", "ready")
    .executeTakeFirst();
  if (!content) return false;
  try {
    await db
      .insertInto("derived_blobs")
      .values({ ...row, created_at: now })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

export async function getDerived(db: Db, sha256: string, kind: string): Promise<DerivedRow | undefined> {
  const row = await db
    .selectFrom("derived_blobs")
    .select(["sha256", "kind", "state", "backend", "location", "size"])
    .where("sha256", "=", sha256)
    .where("kind", "=", kind)
    .executeTakeFirst();
  return row && { ...row, size: Number(row.size) };
}

export interface FileDerived {
  fileId: string;
  found: boolean;
  name: string;
  sha256: string;
  state: string;
}

/** Active files of the owner with their content and its row of `kind`, in the order asked. */
export async function filesDerived(
  db: Db,
  ownerId: string,
  fileIds: string[],
  kind: string,
): Promise<FileDerived[]> {
  const rows =
    fileIds.length === 0
      ? []
      : await db
          .selectFrom("files as f")
          .leftJoin("derived_blobs as d", (j) =>
            j.onRef("d.sha256", "=", "f.blob_sha256").on("d.kind", "=", kind),
          )
          .select(["f.id", "f.name", "f.blob_sha256", "d.state"])
          .where("f.id", "in", fileIds)
          .where("f.owner_id", "=", ownerId)
          .where("f.status", "=", "active")
          .where("f.kind", "=", "file")
          .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return fileIds.map((fileId) => {
    const r = byId.get(fileId);
    return r
      ? { fileId, found: true, name: r.name, sha256: r.blob_sha256 ?? "", state: r.state ?? "" }
      : { fileId, found: false, name: "", sha256: "", state: "" };
  });
}

/** Derived rows whose content is not ready any more (garbage-collected, or being collected). */
export async function listOrphaned(db: Db, limit: number): Promise<DerivedRow[]> {
  const rows = await db
    .selectFrom("derived_blobs as d")
    .select(["d.sha256", "d.kind", "d.state", "d.backend", "d.location", "d.size"])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("blobs as b")
            .select(sql`1`.as("one"))
            .whereRef("b.sha256", "=", "d.sha256")
            .where("b.state", "=", "ready"),
        ),
      ),
    )
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, size: Number(r.size) }));
}

/** Drops a derived row while it still names `location` (its bytes were deleted). */
export async function forgetDerived(db: Db, sha256: string, kind: string, location: string): Promise<void> {
  await db
    .deleteFrom("derived_blobs")
    .where("sha256", "=", sha256)
    .where("kind", "=", kind)
    .where("location", "=", location)
    .execute();
}
