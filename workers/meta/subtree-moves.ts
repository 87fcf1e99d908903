// A folder's subtree moving to the trash or back in batches: each batch of at most `batch` rows is a short
// transaction of its own (the schema rules: no transaction grows with the folder, docs/architecture.md),
// and a row in subtree_moves says the move is unfinished until its last batch deletes it.
//
// Trash marks the folder first (it leaves its parent's listing and every path at once), then its active
// subtree top-down, level by level: a folder is marked before its children, so nothing new can be put
// into a part already marked (requireFolder refuses a trashed folder). Restore goes the other way round:
// the subtree bottom-up, under a folder still in the trash (nothing can be put next to a row not yet back,
// and what is back has all its subtree back), the folder itself last, placing its name then. Until the last batch, a
// lookup by id may see part of the subtree moved; any later trash, restore or purge of that folder, and
// meta's start (resumeSubtreeMoves, after a crash), finishes the move first. Every batch is conditional
// (only rows still in the state it moves them from), so two runs of the same move never conflict.

import { type ExpressionBuilder, sql } from "kysely";
import { FolderNotFoundError, requireFolder } from "./content.ts";
import { type Db, isUniqueViolation } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import type { Database } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import { ConflictPolicy, entry, type ListedFile, ownerTransaction } from "./files.ts";
import { indexNames } from "./name-index.ts";
import { NameTakenError, withPlacedName } from "./names.ts";

/** Rows per batch: a batch of this size is some 100 ms of index updates on a loaded machine. */
export const SUBTREE_BATCH = 1000;

export interface BatchOptions {
  /** Rows per batch (default SUBTREE_BATCH). */
  batch?: number;
  /** Tests: stop after this many batches, as a crash there would (the move stays unfinished). */
  stopAfter?: number;
}

/** Parent ids per IN (...) list. */
const PARENTS = 500;

/** Counts batches against opts.stopAfter; false when the run must stop. */
function batchBudget(opts: BatchOptions): () => boolean {
  let left = opts.stopAfter ?? Number.POSITIVE_INFINITY;
  return () => left-- > 0;
}

/** Where a restored entry goes: its folder when that is still an active folder, else the root (""). */
export async function restoreTarget(tx: Db, ownerId: string, parentId: string): Promise<string> {
  try {
    await requireFolder(tx, ownerId, parentId);
    return parentId;
  } catch (err) {
    if (!(err instanceof FolderNotFoundError)) throw err;
    return "";
  }
}

/** The row of an entry back from the trash, at `place` (parent and name) as of `at`. */
export const restoredRow = (place: { parentId: string; name: string }, at: number) => ({
  status: "active" as const,
  deleted_at: null,
  trashed_with: null,
  parent_id: place.parentId,
  name: place.name,
  updated_at: at,
});

/** Records a move of rootId's subtree (inside the transaction that marks or checks the folder itself). */
export async function beginSubtreeMove(
  tx: Db,
  move: {
    rootId: string;
    ownerId: string;
    op: "trash" | "restore";
    at: number;
    parentId?: string;
    policy?: number;
  },
): Promise<void> {
  await tx
    .insertInto("subtree_moves")
    .values({
      root_id: move.rootId,
      owner_id: move.ownerId,
      op: move.op,
      at: move.at,
      parent_id: move.parentId ?? "",
      policy: move.policy ?? ConflictPolicy.FAIL,
    })
    .execute();
}

/**
 * Runs the unfinished move of rootId's subtree, if there is one, to its end. Answers the rows it moved
 * (the restored folder included), and after a restore the folder as it came back.
 */
export async function finishSubtreeMove(
  db: Db,
  ownerId: string,
  rootId: string,
  opts: BatchOptions = {},
): Promise<{ count: number; restored?: ListedFile }> {
  const move = await db
    .selectFrom("subtree_moves")
    .selectAll()
    .where("root_id", "=", rootId)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!move) return { count: 0 };
  const more = batchBudget(opts);
  const batch = opts.batch ?? SUBTREE_BATCH;
  if (move.op === "trash") {
    const count = await trashBatches(db, ownerId, rootId, Number(move.at), batch, more);
    if (count !== undefined) await forget(db, rootId);
    return { count: count ?? 0 };
  }
  const count = await restoreBatches(db, ownerId, rootId, batch, more);
  if (count === undefined) return { count: 0 };
  const restored = await placeRestored(db, ownerId, rootId);
  return { count: count + 1, restored };
}

/** Finishes every unfinished move (meta's start: moves a crash cut short). Answers how many it finished. */
export async function resumeSubtreeMoves(db: Db, opts: BatchOptions = {}): Promise<number> {
  const moves = await db.selectFrom("subtree_moves").select(["root_id", "owner_id"]).execute();
  for (const m of moves) await finishSubtreeMove(db, m.owner_id, m.root_id, opts);
  return moves.length;
}

async function forget(db: Db, rootId: string): Promise<void> {
  await transact(db, (tx) => tx.deleteFrom("subtree_moves").where("root_id", "=", rootId).execute());
}

/**
 * One batch: at most `batch` children of `parents` still to move (trash: the active ones; restore: those
 * trashed with the root) move, in one transaction holding the owner's lock (a create or move into a
 * folder of the batch waits for it, then sees the folder as the batch left it). One UPDATE over the
 * index range, bounded (MariaDB: LIMIT; SQLite: the rowids of the range's first rows): rows updated in
 * index order, several times cheaper than by a list of ids. Answers how many moved.
 */
async function moveChildren(
  db: Db,
  ownerId: string,
  rootId: string,
  parents: string[],
  op: "trash" | "restore",
  at: number,
  batch: number,
): Promise<number> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const pending = (eb: ExpressionBuilder<Database, "files">) =>
      eb.and([
        eb("owner_id", "=", ownerId),
        eb("parent_id", "in", parents),
        ...(op === "trash"
          ? [eb("status", "=", "active")]
          : [eb("status", "=", "trashed"), eb("trashed_with", "=", rootId)]),
      ]);
    const set =
      op === "trash"
        ? { status: "trashed" as const, deleted_at: at, trashed_with: rootId }
        : { status: "active" as const, deleted_at: null, trashed_with: null };
    const bounded = () => {
      const update = tx.updateTable("files").set(set);
      if (isMysql(tx)) return update.where(pending).limit(batch);
      const first = tx.selectFrom("files").select(sql<number>`rowid`.as("r")).where(pending).limit(batch);
      return update.where(sql`rowid`, "in", first);
    };
    try {
      return Number((await bounded().executeTakeFirst()).numUpdatedRows);
    } catch (err) {
      if (op === "trash" || !isUniqueViolation(err)) throw err;
    }
    // An entry already back was renamed or moved onto the name of one still coming (it was reachable by
    // id meanwhile): row by row, the one coming takes the next free name.
    const rows = await tx
      .selectFrom("files")
      .select(["id", "parent_id", "name"])
      .where(pending)
      .limit(batch)
      .execute();
    for (const r of rows)
      await withPlacedName(
        tx,
        { ownerId, parentId: r.parent_id, name: r.name },
        ConflictPolicy.RENAME,
        async (p) => {
          await tx
            .updateTable("files")
            .set({ ...set, name: p.name })
            .where("id", "=", r.id)
            .execute();
          if (p.name !== r.name) await indexNames(tx, [{ id: r.id, owner_id: ownerId, name: p.name }]);
        },
      );
    return rows.length;
  });
}

/** Moves every child of each folder of `level`, batch by batch; how many, or undefined when stopped. */
async function moveLevel(
  db: Db,
  ownerId: string,
  rootId: string,
  level: string[],
  step: { op: "trash" | "restore"; at: number; batch: number; more: () => boolean },
): Promise<number | undefined> {
  let count = 0;
  for (let i = 0; i < level.length; i += PARENTS) {
    const parents = level.slice(i, i + PARENTS);
    for (let moved = step.batch; moved === step.batch; ) {
      if (!step.more()) return undefined;
      moved = await moveChildren(db, ownerId, rootId, parents, step.op, step.at, step.batch);
      count += moved;
    }
  }
  return count;
}

/** The folders among the children of `level` trashed with rootId: the next level down of a trash. */
async function trashedChildFolders(
  db: Db,
  ownerId: string,
  rootId: string,
  level: string[],
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < level.length; i += PARENTS) {
    const rows = await db
      .selectFrom("files")
      .select("id")
      .where("owner_id", "=", ownerId)
      .where("parent_id", "in", level.slice(i, i + PARENTS))
      .where("status", "=", "trashed")
      .where("kind", "=", "folder")
      .where("trashed_with", "=", rootId)
      .execute();
    for (const r of rows) out.push(r.id);
  }
  return out;
}

/**
 * Marks the active subtree below rootId (already marked) as trashed with it, top-down: the rows it marked,
 * or undefined when stopped early. Resumes where a cut-short run ended: the folders already marked are
 * where active rows may still hang.
 */
async function trashBatches(
  db: Db,
  ownerId: string,
  rootId: string,
  at: number,
  batch: number,
  more: () => boolean,
): Promise<number | undefined> {
  const marked = await trashedFolders(db, ownerId, rootId);
  let count = 0;
  for (let level = [rootId, ...marked.map((r) => r.id)]; level.length > 0; ) {
    const moved = await moveLevel(db, ownerId, rootId, level, { op: "trash", at, batch, more });
    if (moved === undefined) return undefined;
    count += moved;
    level = await trashedChildFolders(db, ownerId, rootId, level);
  }
  return count;
}

/** The folders (below rootId) still trashed with it. */
const trashedFolders = (db: Db, ownerId: string, rootId: string) =>
  db
    .selectFrom("files")
    .select(["id", "parent_id"])
    .where("owner_id", "=", ownerId)
    .where("trashed_with", "=", rootId)
    .where("kind", "=", "folder")
    .where("id", "<>", rootId)
    .execute();

/**
 * Makes the rows trashed with rootId active again, rootId aside, bottom-up (the deepest folders' children
 * first): a row back has its whole subtree back, so trashing it again meanwhile takes all of it along.
 * How many, or undefined when stopped early. What is still trashed is always the top of the subtree, so a
 * resumed run finds its levels the same way.
 */
async function restoreBatches(
  db: Db,
  ownerId: string,
  rootId: string,
  batch: number,
  more: () => boolean,
): Promise<number | undefined> {
  const below = new Map<string, string[]>();
  for (const f of await trashedFolders(db, ownerId, rootId)) {
    const siblings = below.get(f.parent_id);
    if (siblings) siblings.push(f.id);
    else below.set(f.parent_id, [f.id]);
  }
  const levels: string[][] = [];
  for (let level = [rootId]; level.length > 0; level = level.flatMap((id) => below.get(id) ?? []))
    levels.push(level);
  let count = 0;
  for (const level of levels.reverse()) {
    const moved = await moveLevel(db, ownerId, rootId, level, { op: "restore", at: 0, batch, more });
    if (moved === undefined) return undefined;
    count += moved;
  }
  return count;
}

/**
 * The restore's last step: the folder itself back into the folder chosen when the restore began (the root
 * when that one left meanwhile), under the policy chosen then; a name taken meanwhile (policy FAIL: the
 * check at the start passed) gets the next free "name (n)" (RENAME) rather than undoing the whole subtree.
 */
async function placeRestored(db: Db, ownerId: string, rootId: string): Promise<ListedFile> {
  return ownerTransaction(db, ownerId, async (tx) => {
    const move = await tx
      .selectFrom("subtree_moves")
      .selectAll()
      .where("root_id", "=", rootId)
      .executeTakeFirst();
    const row = await entry(tx, ownerId, rootId);
    // Another run finished it first.
    if (!move || row.status === "active") return row;
    const parentId = await restoreTarget(tx, ownerId, move.parent_id);
    const at = Number(move.at);
    const place = (policy: ConflictPolicy) =>
      withPlacedName(tx, { ownerId, parentId, name: row.name, kind: row.kind }, policy, async (p) => {
        await tx
          .updateTable("files")
          .set(restoredRow({ parentId, name: p.name }, at))
          .where("id", "=", rootId)
          .execute();
        return p.name;
      });
    let name: string;
    try {
      name = await place(move.policy);
    } catch (err) {
      if (!(err instanceof NameTakenError)) throw err;
      name = await place(ConflictPolicy.RENAME);
    }
    // A rename changes the name search knows it by.
    if (name !== row.name) await indexNames(tx, [{ ...row, name }]);
    await tx.deleteFrom("subtree_moves").where("root_id", "=", rootId).execute();
    return { ...row, ...restoredRow({ parentId, name }, at) };
  });
}
