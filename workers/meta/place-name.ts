// The one place where copy (and batch copy) decides the name an entry lands under in a folder, by the
// caller's conflict policy. The unique-name work of issue 16 brings the shared function for every way of
// creating an entry; at its merge this seam points there (REPLACE included).
import type { Db } from "./db/database.ts";
import { NameTakenError } from "./files.ts";

export type ConflictPolicy = "fail" | "rename" | "replace";

/** The policy cannot be applied here (REPLACE until the shared placement lands; folders never). */
export class UnsupportedPolicyError extends Error {}

/** "name (n).ext" — the extension stays last; a leading dot ("…/.env") is a name, not an extension. */
export function numbered(name: string, n: number): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}

async function taken(trx: Db, owner: string, folderId: string, names: string[]): Promise<Set<string>> {
  const rows = await trx
    .selectFrom("files")
    .select("name")
    .where("owner_id", "=", owner)
    .where("parent_id", "=", folderId)
    .where("status", "=", "active")
    .where("name", "in", names)
    .execute();
  return new Set(rows.map((r) => r.name));
}

/**
 * The name `name` takes in folderId under `policy` (the caller holds the owner's lock): itself when free;
 * FAIL: NameTakenError; RENAME: the first free "name (2).ext", "name (3).ext", ….
 */
export async function placeName(
  trx: Db,
  owner: string,
  folderId: string,
  name: string,
  policy: ConflictPolicy,
): Promise<string> {
  if (!(await taken(trx, owner, folderId, [name])).has(name)) return name;
  if (policy === "fail") throw new NameTakenError(name, folderId);
  if (policy === "replace")
    throw new UnsupportedPolicyError(
      "on_conflict REPLACE is not available for copies yet: use FAIL or RENAME",
    );
  for (let from = 2; ; from += 50) {
    const candidates = Array.from({ length: 50 }, (_, i) => numbered(name, from + i));
    const used = await taken(trx, owner, folderId, candidates);
    const free = candidates.find((c) => !used.has(c));
    if (free) return free;
  }
}
