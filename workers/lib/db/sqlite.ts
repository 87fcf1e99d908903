// Kysely's SqliteDialect speaks the better-sqlite3 interface; this adapts bun:sqlite to it.
import { Database as BunDatabase, type SQLQueryBindings } from "bun:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";

type Params = ReadonlyArray<unknown>;
const bind = (params: Params) => params as SQLQueryBindings[];

export function bunSqlite(path: string): SqliteDatabase {
  const db = new BunDatabase(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      // query() caches the compiled statement per SQL text; Kysely emits the same text per query shape.
      const stmt = db.query(sql);
      return {
        reader: stmt.columnNames.length > 0,
        all: (params: Params) => stmt.all(...bind(params)),
        run: (params: Params) => {
          const r = stmt.run(...bind(params));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: (params: Params) => stmt.iterate(...bind(params)),
      };
    },
  };
}
