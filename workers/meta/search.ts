// SearchFiles: the owner's active entries whose name contains a text (case- and accent-insensitive: both
// sides compared as name_key, see name-index.ts), in the whole tree or below a folder, optionally of one
// category and modified within a range, sorted and paged with a keyset cursor. The candidates come from
// the gram postings of the text (primary key of file_name_grams), each then read by the files primary key
// and checked against the exact substring: the cost follows the matches, not the size of the drive.
import { sql } from "kysely";
import { pageSize } from "../lib/validate.ts";
import { type Category, EXTENSIONS } from "./categories.ts";
import { requireFolder } from "./content.ts";
import type { Db } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import { InvalidCursorError, type ListedFile, num, ownerTransaction } from "./files.ts";
import { decodeCursor, encodeCursor, type SortKey } from "./listing.ts";
import { indexPending, nameKey, prefixEnd, queryGrams } from "./name-index.ts";

/** Folders below one folder that a search may span (their ids go into one IN list). */
export const MAX_SEARCH_FOLDERS = 20_000;

export interface SearchOptions {
  ownerId: string;
  query: string;
  /** Only below this folder (any depth); "" for the whole tree. */
  folderId?: string;
  category?: Category;
  /** Modification time bounds (ms): from (inclusive), to (exclusive); 0 for none. */
  modifiedFrom?: number;
  modifiedTo?: number;
  sort?: SortKey;
  descending?: boolean;
  pageSize?: number;
  pageToken?: string;
}

/** The search is too wide to answer as asked (a folder with too many subfolders). */
export class SearchTooWideError extends Error {}

/** LIKE's wildcards and its escape character taken literally ("!" escapes on both dialects). */
const literal = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);

/** The active folders at or below folderId; SearchTooWideError past MAX_SEARCH_FOLDERS. */
async function subtreeFolders(db: Db, ownerId: string, folderId: string): Promise<string[]> {
  const all = [folderId];
  for (let level = [folderId]; level.length > 0; ) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 500) {
      const rows = await db
        .selectFrom("files")
        .select("id")
        .where("owner_id", "=", ownerId)
        .where("parent_id", "in", level.slice(i, i + 500))
        .where("status", "=", "active")
        .where("kind", "=", "folder")
        .execute();
      for (const r of rows) next.push(r.id);
    }
    all.push(...next);
    if (all.length > MAX_SEARCH_FOLDERS)
      throw new SearchTooWideError(
        `that folder has more than ${MAX_SEARCH_FOLDERS} subfolders: search a folder further down, or the whole drive`,
      );
    level = next;
  }
  return all;
}

/** The entry ids whose name_key may contain `key`: those holding all its grams, or (short keys) a gram prefix. */
function candidates(db: Db, ownerId: string, key: string) {
  const grams = queryGrams(key);
  const postings = db.selectFrom("file_name_grams").select("file_id").where("owner_id", "=", ownerId);
  if (grams.length === 0)
    return postings.where("gram", ">=", key).where("gram", "<", prefixEnd(key)).groupBy("file_id");
  return postings.where("gram", "in", grams).groupBy("file_id").having(sql`count(*)`, "=", grams.length);
}

export async function searchFiles(
  db: Db,
  o: SearchOptions,
): Promise<{ files: ListedFile[]; nextPageToken: string }> {
  // Control characters never occur in names (nor END, the index's padding).
  const key = nameKey(o.query).replace(/\p{Cc}/gu, "");
  if (key.trim() === "") throw new InvalidCursorError("query is required: a part of the name to look for");
  const sort = o.sort ?? "name";
  const size = pageSize(o.pageSize ?? 0);
  const folderId = o.folderId ?? "";
  // Entries written by code that does not index names yet are indexed first (usually none).
  const pending = await db
    .selectFrom("files")
    .select("id")
    .where("owner_id", "=", o.ownerId)
    .where("name_key", "is", null)
    .executeTakeFirst();
  if (pending)
    await ownerTransaction(db, o.ownerId, (tx) => indexPending(tx, o.ownerId, Number.MAX_SAFE_INTEGER));
  let folders: string[] | undefined;
  if (folderId !== "") {
    await requireFolder(db, o.ownerId, folderId);
    folders = await subtreeFolders(db, o.ownerId, folderId);
  }
  const q = JSON.stringify([
    key,
    folderId,
    o.category ?? "",
    o.modifiedFrom ?? 0,
    o.modifiedTo ?? 0,
    sort,
    o.descending ?? false,
  ]);
  const col = `files.${sort}` as const;
  const dir = o.descending ? "desc" : "asc";
  // MariaDB would rather scan the owner's entries and look each up in the postings ("split" derived
  // table): STRAIGHT_JOIN keeps the postings first, so the cost follows the matches.
  let query = db
    .selectFrom(candidates(db, o.ownerId, key).as("m"))
    .$if(isMysql(db), (b) => b.modifyFront(sql`straight_join`))
    .innerJoin("files", "files.id", "m.file_id")
    .leftJoin("blobs", "blobs.sha256", "files.blob_sha256")
    .selectAll("files")
    .select("blobs.sha1")
    .where("files.owner_id", "=", o.ownerId)
    .where("files.status", "=", "active")
    .where(sql<boolean>`files.name_key like ${`%${literal(key)}%`} escape '!'`);
  if (folders) query = query.where("files.parent_id", "in", folders);
  if (o.category === "folder") query = query.where("files.kind", "=", "folder");
  else if (o.category) {
    const exts = EXTENSIONS[o.category];
    query = query
      .where("files.kind", "=", "file")
      .where((eb) => eb.or(exts.map((x) => eb("files.name_key", "like", `%.${x}`))));
  }
  if (o.modifiedFrom) query = query.where("files.updated_at", ">=", o.modifiedFrom);
  if (o.modifiedTo) query = query.where("files.updated_at", "<", o.modifiedTo);
  if (o.pageToken) {
    const [at, id] = decodeCursor(o.pageToken, q, [sort === "name" ? "string" : "number", "string"]);
    const past = o.descending ? "<" : ">";
    query = query.where((eb) =>
      eb.or([
        eb(col, past, at as never),
        eb.and([eb(col, "=", at as never), eb("files.id", past, id as string)]),
      ]),
    );
  }
  const rows = (
    await query
      .orderBy(col, dir)
      .orderBy("files.id", dir)
      .limit(size + 1)
      .execute()
  ).map(num);
  const files = rows.slice(0, size);
  const last = files.at(-1);
  const nextPageToken = rows.length > size && last ? encodeCursor(q, [last[sort], last.id]) : "";
  return { files, nextPageToken };
}
