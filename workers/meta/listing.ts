// Listing the files table a page at a time: one folder's active entries or every active file of an owner
// (folders first, then by the sort key), and the trash, with opaque keyset cursors stable under inserts.

import { sql } from "kysely";
import { pageSize } from "../lib/validate.ts";
import { requireFolder } from "./content.ts";
import type { Db } from "./db/database.ts";
import { preparedQuery } from "./db/prepared.ts";
import type { FileKind } from "./db/schema.ts";
import { InvalidCursorError, type ListedFile, listed, num } from "./files.ts";

export type SortKey = "name" | "size" | "updated_at";

export function pageSizeOf(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) throw new InvalidCursorError("page_size must be >= 0");
  return pageSize(requested);
}

// Cursors: base64url JSON of the query they belong to (q) and the last row's sort key (k).
export function encodeCursor(q: string, k: (string | number)[]): string {
  return Buffer.from(JSON.stringify({ q, k })).toString("base64url");
}

export function decodeCursor(token: string, q: string, types: string[]): (string | number)[] {
  let parsed: { q?: unknown; k?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError("page_token is not a token this service issued");
  }
  const k = parsed?.k;
  if (
    parsed?.q !== q ||
    !Array.isArray(k) ||
    k.length !== types.length ||
    k.some((v, i) => typeof v !== types[i])
  ) {
    throw new InvalidCursorError("page_token belongs to another listing (folder or sort order changed)");
  }
  return k;
}

export interface ListOptions {
  ownerId: string;
  /** "" for the root. */
  parentId: string;
  /** Every active file of the owner, in any folder (parentId must be ""). */
  allFolders?: boolean;
  sort?: SortKey;
  descending?: boolean;
  /** 0 means DEFAULT_PAGE_SIZE; capped at MAX_PAGE_SIZE (lib/validate.ts). */
  pageSize?: number;
  pageToken?: string;
  /** Only files whose content has this SHA-1. */
  sha1?: string;
}

/** The last row of a page: where the next one starts. */
interface ListCursor {
  kind: FileKind;
  key: string | number;
  id: string;
}

/**
 * One page of active entries: folders first, then by the sort key, ties broken by id, each in the
 * requested direction. The cursor is the last row's (kind, key, id), so rows inserted meanwhile never
 * shift later pages.
 */
export async function listFiles(
  db: Db,
  o: ListOptions,
): Promise<{ files: ListedFile[]; nextPageToken: string }> {
  const sort = o.sort ?? "name";
  const size = pageSizeOf(o.pageSize ?? 0);
  if (o.allFolders && o.parentId !== "")
    throw new InvalidCursorError("all_folders lists every folder: leave parent_id empty");
  if (!o.allFolders) await requireFolder(db, o.ownerId, o.parentId);
  const q = JSON.stringify([o.allFolders ? "*" : o.parentId, sort, o.descending ?? false, o.sha1 ?? ""]);
  let cursor: ListCursor | undefined;
  if (o.pageToken) {
    const [kind, key, id] = decodeCursor(o.pageToken, q, [
      "string",
      sort === "name" ? "string" : "number",
      "string",
    ]);
    cursor = { kind: kind as FileKind, key: key as string | number, id: id as string };
  }
  // Folders, then files: one query per kind, each an in-order range of one index (see migration 0007).
  // Folders hold no content, so a listing by SHA-1 has none. Every folder sorts before every file.
  const kinds: FileKind[] = o.allFolders || o.sha1 ? ["file"] : ["folder", "file"];
  const from = cursor ? kinds.indexOf(cursor.kind) : 0;
  if (from < 0) throw new InvalidCursorError("page_token is not a token this service issued");
  const rows: ListedFile[] = [];
  for (const kind of kinds.slice(from)) {
    const after = cursor?.kind === kind ? cursor : undefined;
    rows.push(...(await listKind(db, o, kind, after, size + 1 - rows.length)));
    if (rows.length > size) break;
  }
  const files = rows.slice(0, size);
  const last = files.at(-1);
  const nextPageToken = rows.length > size && last ? encodeCursor(q, [last.kind, last[sort], last.id]) : "";
  return { files, nextPageToken };
}

/** Which page query: the first rows of a kind, the rows sharing the cursor's key, or those past it. */
type Phase = "first" | "tail" | "past";
type Shape = { sort: SortKey; descending: boolean; allFolders: boolean; sha1: boolean; phase: Phase };
const ARGS = ["ownerId", "kind", "parentId", "sha1", "key", "id", "limit"] as const;

/**
 * The page query of one shape, built and compiled once per database (db/prepared.ts): Kysely's builder
 * and compiler cost more than the index range itself. Arguments a shape does not use are still bound, to
 * a constant comparison (`? is not null`) that keeps every argument one parameter of every shape.
 */
function pageQuery(shape: Shape) {
  const col = `files.${shape.sort}` as const;
  const dir = shape.descending ? "desc" : "asc";
  const past = shape.descending ? "<" : ">";
  return preparedQuery(ARGS, (db, a) => {
    let q = listed(db)
      .where("files.owner_id", "=", a.ownerId)
      .where("files.status", "=", "active")
      .where("files.kind", "=", a.kind as FileKind);
    q = shape.allFolders
      ? q.where(sql<boolean>`${a.parentId} is not null`)
      : q.where("files.parent_id", "=", a.parentId);
    q = shape.sha1 ? q.where("blobs.sha1", "=", a.sha1) : q.where(sql<boolean>`${a.sha1} is not null`);
    if (shape.phase === "first") {
      q = q
        .where(sql<boolean>`${a.key} is not null`)
        .where(sql<boolean>`${a.id} is not null`)
        .orderBy(col, dir);
    } else if (shape.phase === "tail") {
      // The key is fixed here: ordering by id alone lets MariaDB see that the index range is in order.
      q = q.where(col, "=", a.key as never).where("files.id", past, a.id);
    } else {
      q = q
        .where(col, past, a.key as never)
        .where(sql<boolean>`${a.id} is not null`)
        .orderBy(col, dir);
    }
    return q.orderBy("files.id", dir).limit(a.limit as unknown as number);
  });
}

const pageQueries = new Map<string, ReturnType<typeof pageQuery>>();

/** The page query of a shape, made on first use. */
function pageQueryOf(shape: Shape): ReturnType<typeof pageQuery> {
  const name = `${shape.sort}:${shape.descending}:${shape.allFolders}:${shape.sha1}:${shape.phase}`;
  let q = pageQueries.get(name);
  if (!q) {
    q = pageQuery(shape);
    pageQueries.set(name, q);
  }
  return q;
}

/**
 * Up to `limit` active entries of one kind, in listing order, after the cursor's row: those with the
 * cursor's key and a later id, then those with a later key. Each is one plain range of the kind's index in
 * order; written as one query, the OR of the two made MariaDB merge indexes and sort.
 */
async function listKind(
  db: Db,
  o: ListOptions,
  kind: FileKind,
  after: ListCursor | undefined,
  limit: number,
): Promise<ListedFile[]> {
  const shape = (phase: Phase): Shape => ({
    sort: o.sort ?? "name",
    descending: o.descending ?? false,
    allFolders: o.allFolders ?? false,
    sha1: Boolean(o.sha1),
    phase,
  });
  const args = { ownerId: o.ownerId, kind, parentId: o.parentId, sha1: o.sha1 ?? "", key: "", id: "" };
  const page = async (phase: Phase, n: number) =>
    (
      await pageQueryOf(shape(phase))(db, { ...args, key: after?.key ?? "", id: after?.id ?? "", limit: n })
    ).map(num);
  if (!after) return page("first", limit);
  const tail = await page("tail", limit);
  if (tail.length >= limit) return tail;
  return [...tail, ...(await page("past", limit - tail.length))];
}

/** One page of the owner's trash entries (not the subtrees trashed with them), most recent first. */
export async function listTrash(
  db: Db,
  o: { ownerId: string; pageSize?: number; pageToken?: string },
): Promise<{ files: ListedFile[]; nextPageToken: string }> {
  const size = pageSizeOf(o.pageSize ?? 0);
  let query = listed(db)
    .where("files.owner_id", "=", o.ownerId)
    .where("files.status", "=", "trashed")
    .whereRef("files.trashed_with", "=", "files.id");
  if (o.pageToken) {
    const [at, id] = decodeCursor(o.pageToken, "trash", ["number", "string"]);
    query = query.where((eb) =>
      eb.or([
        eb("files.deleted_at", "<", at as number),
        eb.and([eb("files.deleted_at", "=", at as number), eb("files.id", "<", id as string)]),
      ]),
    );
  }
  const rows = (
    await query
      .orderBy("files.deleted_at", "desc")
      .orderBy("files.id", "desc")
      .limit(size + 1)
      .execute()
  ).map(num);
  const files = rows.slice(0, size);
  const last = files.at(-1);
  const nextPageToken =
    rows.length > size && last ? encodeCursor("trash", [last.deleted_at ?? 0, last.id]) : "";
  return { files, nextPageToken };
}
