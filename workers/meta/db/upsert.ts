// "Insert this row unless one with the same key exists" in the shape that does not deadlock on MySQL.
//
// The tempting "UPDATE ... WHERE key = ?, and INSERT when nothing matched" takes a gap lock on MySQL
// (REPEATABLE READ) when the key does not exist yet: two transactions holding that gap lock then wait on
// each other's INSERT, a deadlock. INSERT IGNORE (or a plain INSERT failing on the duplicate) takes a
// shared lock on an existing row: two transactions holding it and then updating the row deadlock too.
// ON DUPLICATE KEY UPDATE locks an existing row exclusively at once, so whoever comes second simply waits.
// SQLite has one writer at a time: ON CONFLICT is enough there.
import { type InsertQueryBuilder, sql } from "kysely";
import type { Db } from "./database.ts";
import { isMysql } from "./dialect.ts";
import type { Database } from "./schema.ts";

/**
 * The INSERT, or — when a row with the same `key` (its primary key) exists — that row updated with `set`,
 * or left as it is without `set`. Either way the row exists afterwards and, on MySQL, is locked by this
 * transaction until it ends.
 */
export function insertOrUpdate<TB extends keyof Database, O>(
  db: Db,
  insert: InsertQueryBuilder<Database, TB, O>,
  key: readonly (keyof Database[TB] & string)[],
  set?: Partial<Database[TB]>,
): InsertQueryBuilder<Database, TB, O> {
  const first = key[0] as string;
  if (isMysql(db)) return insert.onDuplicateKeyUpdate((set ?? { [first]: sql.ref(first) }) as never);
  return insert.onConflict((oc) => {
    const target = oc.columns(key as never);
    return set ? target.doUpdateSet(set as never) : target.doNothing();
  });
}
