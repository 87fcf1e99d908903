// CopyFile: an active file, or a folder with its whole active subtree, copied into an active folder of the
// same owner in one transaction under the owner's lock. Copies name the same content (no bytes move): each
// copied file adds one reference to its blob, counted per blob, so refcounts stay exact.
// The name is placed like every other new entry (names.ts). REPLACE onto a file makes the source's content
// that file's new version (one more reference); REPLACE where a folder is on either side is refused with
// InvalidArgument rather than merged: "replace" means "the entry keeps its id and gains a version", which
// folders cannot, and a merge that silently turns every same-named file below into a new version is a bulk
// change a single click should not hide (move and restore refuse it too). RENAME keeps both.

import { checkFileName } from "../lib/names.ts";
import { requireFolder } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { FilesTable } from "./db/schema.ts";
import {
  entry,
  InvalidMoveError,
  InvalidNameError,
  type ListedFile,
  ownerTransaction,
  TrashStateError,
} from "./files.ts";
import { insertGrams, nameKey } from "./name-index.ts";
import { ConflictPolicy, FolderReplaceError, withPlacedName } from "./names.ts";
import { charge, chargeRows, type QuotaRules, UNLIMITED } from "./quota.ts";
import { ancestors, DEFAULT_MAX_FOLDER_DEPTH, requireDepthRoom } from "./tree.ts";
import { DEFAULT_VERSIONS_KEEP, supersede } from "./versions.ts";

/** REPLACE cannot apply: a folder on either side, or a file onto itself (InvalidArgument). */
export class CopyReplaceError extends Error {}

export interface CopyRequest {
  /** Whose tree the copy lands in (and whose quota it is charged to). */
  ownerId: string;
  /**
   * Whose entry `id` is, when not ownerId's (save a shared item to one's drive: the caller checked the
   * share). The copies are ownerId's rows naming the same content.
   */
  sourceOwnerId?: string;
  id: string;
  newParentId: string;
  /** "" keeps the original's name. */
  name?: string;
  /** When the name is taken in newParentId (UNSPECIFIED: FAIL). */
  policy?: ConflictPolicy;
  /**
   * Runs first inside the copy's transaction (save to drive: counts a download of the share), so that what
   * it writes is undone when the copy fails, and the copy is not made when it throws.
   */
  within?: (tx: Db) => Promise<void>;
  /** Versions a replaced file keeps (REPLACE). */
  versionsKeep?: number;
}

const CHUNK = 500;

/**
 * Copies of the active children of `level` (original folder id → its copy's id), in batches of ids; and
 * the next level (the folders among them, original id → copy id).
 */
async function copyLevel(
  tx: Db,
  ownerId: string,
  level: Map<string, string>,
  now: number,
  toOwnerId = ownerId,
): Promise<{ rows: FilesTable[]; next: Map<string, string> }> {
  const out: FilesTable[] = [];
  const next = new Map<string, string>();
  const ids = [...level.keys()];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const children = await tx
      .selectFrom("files")
      .selectAll()
      .where("owner_id", "=", ownerId)
      .where("status", "=", "active")
      .where("parent_id", "in", ids.slice(i, i + CHUNK))
      .execute();
    for (const c of children) {
      const id = crypto.randomUUID();
      out.push(
        copyRow(c, { id, parentId: level.get(c.parent_id) as string, name: c.name, ownerId: toOwnerId }, now),
      );
      if (c.kind === "folder") next.set(c.id, id);
    }
  }
  return { rows: out, next };
}

function copyRow(
  src: FilesTable,
  to: { id: string; parentId: string; name: string; ownerId?: string },
  now: number,
): FilesTable {
  return {
    id: to.id,
    owner_id: to.ownerId ?? src.owner_id,
    parent_id: to.parentId,
    name: to.name,
    name_key: nameKey(to.name),
    kind: src.kind,
    blob_sha256: src.blob_sha256,
    size: Number(src.size),
    status: "active",
    created_at: now,
    updated_at: now,
    deleted_at: null,
    trashed_with: null,
  };
}

/** Adds `n` references to the content (the source names it, so it is live). */
const addRefs = (tx: Db, sha256: string, n: number) =>
  tx
    .updateTable("blobs")
    .set((eb) => ({ refcount: eb("refcount", "+", n), unreferenced_at: null }))
    .where("sha256", "=", sha256)
    .execute();

/**
 * Inserts copied rows with their name grams and adds their content references, one UPDATE per blob.
 * `inserted`: the rows are in already (the top of a copy, placed by withPlacedName). The copies are charged
 * to the owner's quota like new files.
 */
async function writeCopies(tx: Db, rows: FilesTable[], quota: QuotaRules, inserted = false): Promise<void> {
  await chargeRows(tx, quota, rows);
  if (!inserted)
    for (let i = 0; i < rows.length; i += CHUNK)
      await tx
        .insertInto("files")
        .values(rows.slice(i, i + CHUNK))
        .execute();
  await insertGrams(tx, rows);
  const refs = new Map<string, number>();
  for (const r of rows) if (r.blob_sha256) refs.set(r.blob_sha256, (refs.get(r.blob_sha256) ?? 0) + 1);
  for (const [sha256, n] of refs) await addRefs(tx, sha256, n);
}

/** REPLACE: the source's content becomes the active file targetId's, its current content a version. */
async function replaceByCopy(
  tx: Db,
  src: ListedFile,
  targetId: string,
  now: number,
  keep: number,
  quota: QuotaRules,
): Promise<ListedFile> {
  if (targetId === src.id)
    throw new CopyReplaceError(
      'a file cannot replace itself: copy it with on_conflict "rename" to keep both, or choose another folder',
    );
  const target = await entry(tx, src.owner_id, targetId);
  // The new version counts in full, like a replacing upload (versions are charged until trimmed).
  await charge(tx, quota, src.owner_id, Number(src.size));
  if (src.blob_sha256) await addRefs(tx, src.blob_sha256, 1);
  await supersede(tx, target, { blob_sha256: src.blob_sha256, size: src.size }, now, keep);
  return entry(tx, src.owner_id, targetId);
}

/**
 * Copies the entry; returns the copy (the top of the copied tree) and how many rows were written. With
 * REPLACE onto a file, `file` is that file (same id) with the source's content and `replaced` is set.
 */
export async function copyFile(
  db: Db,
  r: CopyRequest,
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
  quota: QuotaRules = UNLIMITED,
): Promise<{ file: ListedFile; count: number; replaced?: boolean }> {
  let name: string | undefined;
  if (r.name) {
    const checked = checkFileName(r.name);
    if ("error" in checked) throw new InvalidNameError(checked.error);
    name = checked.name;
  }
  return ownerTransaction(db, r.ownerId, async (tx) => {
    await r.within?.(tx);
    const from = r.sourceOwnerId ?? r.ownerId;
    const src = await entry(tx, from, r.id);
    if (src.status !== "active") throw new TrashStateError("this entry is in the trash: restore it first");
    await requireFolder(tx, r.ownerId, r.newParentId);
    if (
      from === r.ownerId &&
      src.kind === "folder" &&
      (await ancestors(tx, r.ownerId, r.newParentId, maxDepth)).includes(r.id)
    )
      throw new InvalidMoveError("a folder cannot be copied into itself or one of its subfolders");
    await requireDepthRoom(
      tx,
      r.ownerId,
      r.newParentId,
      { kind: src.kind, id: r.id, scope: "active", ownerId: from },
      maxDepth,
    );
    const target = { ownerId: r.ownerId, parentId: r.newParentId, name: name ?? src.name, kind: src.kind };
    type Placed = { replaced: ListedFile } | { top: FilesTable };
    const placed = await withPlacedName<Placed>(tx, target, r.policy ?? ConflictPolicy.FAIL, async (p) => {
      if (p.replaces) {
        const keep = r.versionsKeep ?? DEFAULT_VERSIONS_KEEP;
        return { replaced: await replaceByCopy(tx, src, p.replaces.id, now, keep, quota) };
      }
      // The one statement that claims the name: undone alone when another transaction took it meanwhile.
      const to = { id: crypto.randomUUID(), parentId: r.newParentId, name: p.name, ownerId: r.ownerId };
      const top = copyRow(src, to, now);
      await tx.insertInto("files").values(top).execute();
      return { top };
    }).catch((err) => {
      if (err instanceof FolderReplaceError)
        throw new CopyReplaceError(
          `"${err.taken}" is a folder here or in the copy: folders cannot be replaced; copy with on_conflict "rename" to keep both, or copy the folder's contents into it`,
        );
      throw err;
    });
    if ("replaced" in placed) return { file: placed.replaced, count: 1, replaced: true };
    const { top } = placed;
    await writeCopies(tx, [top], quota, true);
    let count = 1;
    if (src.kind === "folder") {
      // At most maxDepth levels (requireDepthRoom measured the subtree): even a corrupted cycle ends.
      let level = new Map([[src.id, top.id]]);
      for (let depth = 0; level.size > 0 && depth <= maxDepth; depth++) {
        const { rows, next } = await copyLevel(tx, from, level, now, r.ownerId);
        await writeCopies(tx, rows, quota);
        count += rows.length;
        level = next;
      }
    }
    return { file: { ...top, sha1: src.sha1 }, count };
  });
}
