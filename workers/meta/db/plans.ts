// Test helper for the plan suites (*-plan.test.ts): record the ordered SELECTs a call runs, and ask the
// database for the plan (EXPLAIN) of one of them, on either dialect.
import { Database, type SQLQueryBindings } from "bun:sqlite";
import { CompiledQuery, type KyselyPlugin, type QueryId, type RootOperationNode } from "kysely";
import type { Db } from "./database.ts";

export interface RecordedQuery {
  node: RootOperationNode;
  queryId: QueryId;
}

/** `db` that records its SELECTs with an ORDER BY (the listing queries) in `seen`. */
export function orderedSelects(db: Db): { db: Db; seen: RecordedQuery[] } {
  const seen: RecordedQuery[] = [];
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (args.node.kind === "SelectQueryNode" && args.node.orderBy) seen.push(args);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(plugin), seen };
}

/** `db` that records every SELECT, UPDATE and DELETE it runs in `seen` (a path's whole set of statements). */
export function allStatements(db: Db): { db: Db; seen: RecordedQuery[] } {
  const seen: RecordedQuery[] = [];
  const kinds = new Set(["SelectQueryNode", "UpdateQueryNode", "DeleteQueryNode"]);
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (kinds.has(args.node.kind)) seen.push(args);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(plugin), seen };
}

/**
 * planOf for a SQLite database in a file, asked on a connection of its own that is closed after: the plan
 * of an UPDATE or DELETE asked on the connection that runs it leaves a statement open there (bun:sqlite),
 * and that connection's next COMMIT then fails.
 */
export function sqliteFilePlanOf(db: Db, path: string, q: RecordedQuery) {
  const compiled = db.getExecutor().compileQuery(q.node, q.queryId);
  const own = new Database(path, { readonly: true });
  try {
    const rows = own
      .query(`EXPLAIN QUERY PLAN ${compiled.sql}`)
      .all(...(compiled.parameters as SQLQueryBindings[]));
    return { text: compiled.sql, rows: rows as Record<string, unknown>[] };
  } finally {
    own.close();
  }
}

/** The SQL of a recorded query and the rows of its plan (MariaDB: EXPLAIN; SQLite: EXPLAIN QUERY PLAN). */
export async function planOf(db: Db, dialect: "sqlite" | "mysql", q: RecordedQuery) {
  const compiled = db.getExecutor().compileQuery(q.node, q.queryId);
  const prefix = dialect === "mysql" ? "EXPLAIN " : "EXPLAIN QUERY PLAN ";
  const res = await db.executeQuery(CompiledQuery.raw(prefix + compiled.sql, [...compiled.parameters]));
  return { text: compiled.sql, rows: res.rows as Record<string, unknown>[] };
}
