// Opens the database named by DATABASE_URL ("sqlite:PATH", "sqlite::memory:" or "mysql://...") and
// migrates it. One Kysely query builder serves both dialects.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, Migrator, MysqlDialect, SqliteDialect } from "kysely";
import type { createPool as CreatePool } from "mysql2";
import { migrations } from "./migrations/index.ts";
import type { Database } from "./schema.ts";
import { bunSqlite } from "./sqlite.ts";
import { traceQueries } from "./traced.ts";

export type Db = Kysely<Database>;

export function openDatabase(url: string): Db {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const dialect = new SqliteDialect({ database: bunSqlite(path) });
    return new Kysely<Database>({ dialect: traceQueries(dialect, "sqlite") });
  }
  if (url.startsWith("mysql://")) {
    // Loaded only for MySQL: mysql2 costs ~8 MiB of memory in every process that imports it.
    const { createPool } = require("mysql2") as { createPool: typeof CreatePool };
    const pool = createPool({
      uri: url,
      connectionLimit: 20,
      charset: "utf8mb4",
      // BIGINT epoch-ms fit in a double exactly; keep them numbers.
      supportBigNumbers: true,
      bigNumberStrings: false,
      timezone: "Z",
    });
    return new Kysely<Database>({ dialect: traceQueries(new MysqlDialect({ pool }), "mysql") });
  }
  throw new Error(`DATABASE_URL must start with sqlite: or mysql:// (got "${url.split(":")[0]}:...")`);
}

export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed: ${String(error)}`);
  }
}

/** True when err is a unique-key violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; message?: string };
  return (
    e?.code === "ER_DUP_ENTRY" ||
    e?.errno === 1062 ||
    e?.code === "SQLITE_CONSTRAINT_UNIQUE" ||
    e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY" ||
    /UNIQUE constraint failed/.test(e?.message ?? "")
  );
}
