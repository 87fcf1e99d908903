// Repair of orphans: active entries whose folder is not an active folder of their owner (left behind by
// a subtree operation that once stopped part-way down a deep tree, or by a folder row removed on its own).
// Nobody can browse to them, yet they stay listed by all_folders, downloadable, and hold their content
// forever. Each orphan moves to the trash with its active subtree (a chain of orphans goes with its top):
// - when its folder is in the trash, into that folder's trash entry, so restoring or purging what the
//   user deleted takes them along, as it would have if the delete had reached them;
// - otherwise as a trash entry of its own, which the user can restore (into the root) or purge.
// The trash rather than a purge: the repair cannot know the user meant to destroy this content, and the
// trash keeps it recoverable; once purged, its content is collected like any other.
import type { Db } from "./db/database.ts";
import { ownerTransaction } from "./files.ts";
import { trashSubtree } from "./tree.ts";

export interface OrphanRepair {
  ownerId: string;
  id: string;
  /** The folder id the orphan names, which is missing, in the trash, someone else's or not a folder. */
  formerParentId: string;
  /** The trash entry it now belongs to: its own id, or that of the trash entry of its former folder. */
  trashEntryId: string;
  /** Rows moved to the trash: the orphan and its active subtree. */
  count: number;
}

/** Up to `limit` orphans whose parent is not an active folder of their owner (the tops of orphan chains). */
async function findOrphans(db: Db, limit: number): Promise<{ id: string; owner_id: string }[]> {
  return db
    .selectFrom("files as c")
    .leftJoin("files as p", (join) =>
      join.onRef("p.id", "=", "c.parent_id").onRef("p.owner_id", "=", "c.owner_id"),
    )
    .select(["c.id", "c.owner_id"])
    .where("c.status", "=", "active")
    .where("c.parent_id", "!=", "")
    .where((eb) =>
      eb.or([eb("p.id", "is", null), eb("p.status", "!=", "active"), eb("p.kind", "!=", "folder")]),
    )
    .orderBy("c.id")
    .limit(limit)
    .execute();
}

/** Moves one orphan to the trash under its owner's lock; undefined when it is no orphan (any more). */
function repairOne(db: Db, ownerId: string, id: string, now: number): Promise<OrphanRepair | undefined> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const row = await tx
      .selectFrom("files")
      .select("parent_id")
      .where("id", "=", id)
      .where("owner_id", "=", ownerId)
      .where("status", "=", "active")
      .executeTakeFirst();
    if (!row || row.parent_id === "") return undefined;
    const parent = await tx
      .selectFrom("files")
      .select(["kind", "status", "trashed_with", "deleted_at"])
      .where("id", "=", row.parent_id)
      .where("owner_id", "=", ownerId)
      .executeTakeFirst();
    if (parent?.kind === "folder" && parent.status === "active") return undefined;
    const joins = parent?.kind === "folder" && parent.trashed_with !== null;
    const mark = joins
      ? { trashedWith: parent.trashed_with as string, deletedAt: Number(parent.deleted_at ?? now) }
      : { trashedWith: id, deletedAt: now };
    const count = await trashSubtree(tx, ownerId, id, mark);
    return { ownerId, id, formerParentId: row.parent_id, trashEntryId: mark.trashedWith, count };
  });
}

/**
 * Repairs up to `limit` orphans, each in its own transaction: one entry per orphan repaired, and how many
 * were found (a concurrent caller may have repaired some; found < limit means none are left).
 */
export async function repairOrphans(
  db: Db,
  now: number,
  limit: number,
): Promise<{ repairs: OrphanRepair[]; found: number }> {
  const found = await findOrphans(db, limit);
  const repairs: OrphanRepair[] = [];
  for (const o of found) {
    const done = await repairOne(db, o.owner_id, o.id, now);
    if (done) repairs.push(done);
  }
  return { repairs, found: found.length };
}
