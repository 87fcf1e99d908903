// Test helper for the plan suites (*-plan.test.ts): record the ordered SELECTs a call runs, and ask the
// database for the plan (EXPLAIN) of one of them, on either dialect.
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

/** The SQL of a recorded query and the rows of its plan (MariaDB: EXPLAIN; SQLite: EXPLAIN QUERY PLAN). */
export async function planOf(db: Db, dialect: "sqlite" | "mysql", q: RecordedQuery) {
  const compiled = db.getExecutor().compileQuery(q.node, q.queryId);
  const prefix = dialect === "mysql" ? "EXPLAIN " : "EXPLAIN QUERY PLAN ";
  const res = await db.executeQuery(CompiledQuery.raw(prefix + compiled.sql, [...compiled.parameters]));
  return { text: compiled.sql, rows: res.rows as Record<string, unknown>[] };
}
