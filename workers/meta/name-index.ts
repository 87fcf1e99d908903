// The search index of entry names (SearchFiles): each entry's name_key (NFKD, combining marks stripped,
// lower-cased: "Café.JPG" → "cafe.jpg") and one row per position of that key in file_name_grams, the
// three characters starting there (the key padded with two END characters, so every position starts a
// full gram). A search for a substring of three characters or more intersects the postings of its grams;
// a shorter one is a prefix range of the grams (every 1- or 2-character substring begins some gram). Both
// read the (owner_id, gram) primary key, never the whole files table (see search.ts, migration 0012).
//
// A portable trigram table rather than the engines' own full-text search: MariaDB's FULLTEXT matches words,
// not substrings (its n-gram parser is MySQL-only), while SQLite's FTS5 trigram tokenizer would be a
// second, different engine to keep in step with the files table. Rows written by code that does not index
// names (name_key NULL) are indexed by the next search of their owner (indexPending).
import type { Db } from "./db/database.ts";

const END = "\u0001";
const GRAM = 3;

/** The form names are compared in: compatibility-decomposed, without combining marks, lower-cased. */
export function nameKey(name: string): string {
  return name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The grams of a key as stored: one per character position (code points, not UTF-16 units). */
export function storedGrams(key: string): string[] {
  const chars = [...key, END, END];
  const grams = new Set<string>();
  for (let i = 0; i + GRAM <= chars.length; i++) grams.add(chars.slice(i, i + GRAM).join(""));
  return [...grams];
}

/** The grams a query of three characters or more must all have (none for a shorter one). */
export function queryGrams(key: string): string[] {
  const chars = [...key];
  const grams = new Set<string>();
  for (let i = 0; i + GRAM <= chars.length; i++) grams.add(chars.slice(i, i + GRAM).join(""));
  return [...grams];
}

/** The upper bound of a prefix range: every gram starting with `prefix` sorts before it (binary order). */
export const prefixEnd = (prefix: string): string => `${prefix}\u{10FFFF}`;

/** Writes the grams of new rows whose name_key is already set (inserted with nameKey(name)). */
export async function insertGrams(
  tx: Db,
  rows: readonly { id: string; owner_id: string; name_key?: string | null }[],
): Promise<void> {
  const grams: { owner_id: string; gram: string; file_id: string }[] = [];
  for (const r of rows)
    for (const gram of storedGrams(r.name_key ?? ""))
      grams.push({ owner_id: r.owner_id, gram, file_id: r.id });
  for (let i = 0; i < grams.length; i += 500)
    await tx
      .insertInto("file_name_grams")
      .values(grams.slice(i, i + 500))
      .execute();
}

/** (Re)writes the index rows of entries whose name is set or changed, in the caller's transaction. */
export async function indexNames(
  tx: Db,
  rows: readonly { id: string; owner_id: string; name: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500)
    await tx
      .deleteFrom("file_name_grams")
      .where("file_id", "in", ids.slice(i, i + 500))
      .execute();
  const grams: { owner_id: string; gram: string; file_id: string }[] = [];
  for (const r of rows) {
    const key = nameKey(r.name);
    await tx.updateTable("files").set({ name_key: key }).where("id", "=", r.id).execute();
    for (const gram of storedGrams(key)) grams.push({ owner_id: r.owner_id, gram, file_id: r.id });
  }
  for (let i = 0; i < grams.length; i += 500)
    await tx
      .insertInto("file_name_grams")
      .values(grams.slice(i, i + 500))
      .execute();
}

/** Indexes up to `limit` of the owner's entries that were written without a name key; how many it did. */
export async function indexPending(tx: Db, ownerId: string, limit = 5000): Promise<number> {
  const rows = await tx
    .selectFrom("files")
    .select(["id", "owner_id", "name"])
    .where("owner_id", "=", ownerId)
    .where("name_key", "is", null)
    .limit(limit)
    .execute();
  await indexNames(tx, rows);
  return rows.length;
}
