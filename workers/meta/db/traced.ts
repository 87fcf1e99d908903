// Database spans: every statement meta runs goes through a connection's executeQuery, the one place this
// wraps (the dialect's driver hands out connections whose executeQuery opens a CLIENT span). Attributes
// after the database semantic conventions: db.system.name, db.operation.name, db.collection.name and the
// statement with its placeholders (db.query.text) — never a parameter's value. With tracing off a
// statement costs one check more.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { CompiledQuery, DatabaseConnection, Dialect, Driver } from "kysely";
import { activeTracer } from "../../../core/tracing/tracer.ts";

type Node = { kind?: string; [k: string]: unknown };

/** The table a statement names first (SELECT … FROM t, INSERT INTO t, UPDATE t, DELETE FROM t). */
function tableOf(node: Node): string | undefined {
  const table = (t: unknown) =>
    (t as { table?: { identifier?: { name?: string } } })?.table?.identifier?.name;
  const from = (node.from as { froms?: unknown[] } | undefined)?.froms?.[0];
  return table(node.into) ?? table(node.table) ?? table(from) ?? undefined;
}

const operations: Record<string, string> = {
  SelectQueryNode: "SELECT",
  InsertQueryNode: "INSERT",
  UpdateQueryNode: "UPDATE",
  DeleteQueryNode: "DELETE",
};

function describeQuery(q: CompiledQuery): { operation: string; table?: string } {
  const node = q.query as unknown as Node;
  const operation = operations[node.kind ?? ""] ?? (/^\s*(\w+)/.exec(q.sql)?.[1] ?? "QUERY").toUpperCase();
  return { operation, table: tableOf(node) };
}

async function traced<R>(system: string, q: CompiledQuery, run: () => Promise<R>): Promise<R> {
  const tracer = activeTracer();
  if (!tracer) return run();
  const { operation, table } = describeQuery(q);
  const span = tracer.startSpan(table ? `${operation} ${table}` : operation, {
    kind: SpanKind.CLIENT,
    attributes: {
      "db.system.name": system,
      "db.operation.name": operation,
      ...(table ? { "db.collection.name": table } : {}),
      "db.query.text": q.sql.slice(0, 2000),
    },
  });
  try {
    return await run();
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string })?.code ?? "error" });
    throw err;
  } finally {
    span.end();
  }
}

const instrumented = new WeakSet<DatabaseConnection>();

function instrument(system: string, connection: DatabaseConnection): DatabaseConnection {
  if (instrumented.has(connection)) return connection;
  instrumented.add(connection);
  const execute = connection.executeQuery.bind(connection);
  connection.executeQuery = (q) => traced(system, q, () => execute(q));
  return connection;
}

/** `dialect` with a span around every statement (system: "sqlite", "mysql"). */
export function traceQueries(dialect: Dialect, system: string): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver(): Driver {
      const driver = dialect.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      driver.acquireConnection = async () => instrument(system, await acquire());
      return driver;
    },
  };
}
