// Kysely's SqliteDialect speaks the better-sqlite3 interface; this adapts bun:sqlite to it.
import { Database as BunDatabase, type SQLQueryBindings } from "bun:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";
import { checkpointInBackground, FALLBACK_AUTOCHECKPOINT_PAGES } from "./checkpointer.ts";

type Params = ReadonlyArray<unknown>;
const bind = (params: Params) => params as SQLQueryBindings[];
const noop: SqliteStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

export function bunSqlite(path: string): SqliteDatabase {
  const db = new BunDatabase(path, { create: true, strict: true });
  // First: the pragmas below wait for locks too. Another connection to the file (the checkpointer thread
  // of a process that just stopped, closing last and so checkpointing) may hold one for a moment.
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  // Checkpoints run on a thread of their own (checkpointer.ts); this connection's are the safety net.
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory) db.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const release = inMemory ? () => undefined : checkpointInBackground(path);
  return {
    close: () => {
      release();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM):
      // Kysely's ROLLBACK after one must not replace that error with "no transaction is active".
      if (sql === "rollback" && !db.inTransaction) return noop;
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
