// CopyFile: an active file, or a folder with its whole active subtree, copied into an active folder of the
// same owner in one transaction under the owner's lock. Copies name the same content (no bytes move): each
// copied file adds one reference to its blob, counted per blob, so refcounts stay exact.

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
import { type ConflictPolicy, placeName } from "./place-name.ts";
import { chargeRows, type QuotaRules, UNLIMITED } from "./quota.ts";
import { ancestors, DEFAULT_MAX_FOLDER_DEPTH, requireDepthRoom } from "./tree.ts";

export interface CopyRequest {
  ownerId: string;
  id: string;
  newParentId: string;
  /** "" keeps the original's name. */
  name?: string;
  policy?: ConflictPolicy;
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
      out.push(copyRow(c, { id, parentId: level.get(c.parent_id) as string, name: c.name }, now));
      if (c.kind === "folder") next.set(c.id, id);
    }
  }
  return { rows: out, next };
}

function copyRow(
  src: FilesTable,
  to: { id: string; parentId: string; name: string },
  now: number,
): FilesTable {
  return {
    id: to.id,
    owner_id: src.owner_id,
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

/**
 * Inserts copied rows with their name grams and adds their content references, one UPDATE per blob; the
 * copies are charged to the owner's quota like new files.
 */
async function writeCopies(tx: Db, rows: FilesTable[], quota: QuotaRules): Promise<void> {
  await chargeRows(tx, quota, rows);
  for (let i = 0; i < rows.length; i += CHUNK)
    await tx
      .insertInto("files")
      .values(rows.slice(i, i + CHUNK))
      .execute();
  await insertGrams(tx, rows);
  const refs = new Map<string, number>();
  for (const r of rows) if (r.blob_sha256) refs.set(r.blob_sha256, (refs.get(r.blob_sha256) ?? 0) + 1);
  for (const [sha256, n] of refs)
    await tx
      .updateTable("blobs")
      .set((eb) => ({ refcount: eb("refcount", "+", n), unreferenced_at: null }))
      .where("sha256", "=", sha256)
      .execute();
}

/** Copies the entry; returns the copy (the top of the copied tree) and how many rows were written. */
export async function copyFile(
  db: Db,
  r: CopyRequest,
  now: number,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
  quota: QuotaRules = UNLIMITED,
): Promise<{ file: ListedFile; count: number }> {
  let name: string | undefined;
  if (r.name) {
    const checked = checkFileName(r.name);
    if ("error" in checked) throw new InvalidNameError(checked.error);
    name = checked.name;
  }
  return ownerTransaction(db, r.ownerId, async (tx) => {
    const src = await entry(tx, r.ownerId, r.id);
    if (src.status !== "active") throw new TrashStateError("this entry is in the trash: restore it first");
    await requireFolder(tx, r.ownerId, r.newParentId);
    if (src.kind === "folder" && (await ancestors(tx, r.ownerId, r.newParentId, maxDepth)).includes(r.id))
      throw new InvalidMoveError("a folder cannot be copied into itself or one of its subfolders");
    await requireDepthRoom(
      tx,
      r.ownerId,
      r.newParentId,
      { kind: src.kind, id: r.id, scope: "active" },
      maxDepth,
    );
    const placed = await placeName(tx, r.ownerId, r.newParentId, name ?? src.name, r.policy ?? "fail");
    const top = copyRow(src, { id: crypto.randomUUID(), parentId: r.newParentId, name: placed }, now);
    await writeCopies(tx, [top], quota);
    let count = 1;
    if (src.kind === "folder") {
      // At most maxDepth levels (requireDepthRoom measured the subtree): even a corrupted cycle ends.
      let level = new Map([[src.id, top.id]]);
      for (let depth = 0; level.size > 0 && depth <= maxDepth; depth++) {
        const { rows, next } = await copyLevel(tx, r.ownerId, level, now);
        await writeCopies(tx, rows, quota);
        count += rows.length;
        level = next;
      }
    }
    return { file: { ...top, sha1: src.sha1 }, count };
  });
}
