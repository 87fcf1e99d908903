// The MariaDB template (testing-schema.ts) must give exactly what running the migrations gives: the same
// tables, columns, indexes, foreign keys and rows, and nothing left for migrateToLatest to do.
import { describe, expect, test } from "bun:test";
import { Migrator } from "kysely";
import { createConnection } from "mysql2/promise";
import { migrateToLatest } from "./database.ts";
import { migrations } from "./migrations/index.ts";
import { testDatabases } from "./testing.ts";

const mysql = testDatabases().find((d) => d.dialect === "mysql");

async function describeDatabase(url: string) {
  const name = new URL(url).pathname.slice(1);
  const c = await createConnection(url);
  try {
    const [tables] = await c.query(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
      [name],
    );
    const out: Record<string, { create: string; rows: unknown[] }> = {};
    for (const { t } of tables as Array<{ t: string }>) {
      const [shown] = await c.query(`SHOW CREATE TABLE \`${t}\``);
      const create = (shown as Array<Record<string, string>>)[0]?.["Create Table"] as string;
      // Run times differ; everything else must not.
      const [rows] = await c.query(`SELECT * FROM \`${t}\``);
      const stable = (rows as Array<Record<string, unknown>>).map((r) => ({ ...r, timestamp: undefined }));
      out[t] = { create: create.replace(/ AUTO_INCREMENT=\d+/, ""), rows: stable };
    }
    return out;
  } finally {
    await c.end();
  }
}

describe.if(mysql !== undefined)("MariaDB test databases from the template", () => {
  test("the same schema and rows as the migrations make; migrateToLatest has nothing left to do", async () => {
    const t = mysql as NonNullable<typeof mysql>;
    const migrated = await t.open({ migrate: false });
    const fromTemplate = await t.open();
    try {
      await migrateToLatest(migrated.db);
      const [a, b] = await Promise.all([
        describeDatabase(migrated.url as string),
        describeDatabase(fromTemplate.url as string),
      ]);
      expect(Object.keys(b).length).toBeGreaterThan(20);
      expect(b).toEqual(a);
      const migrator = new Migrator({
        db: fromTemplate.db,
        provider: { getMigrations: async () => migrations },
      });
      const { error, results } = await migrator.migrateToLatest();
      expect(error).toBeUndefined();
      expect(results ?? []).toEqual([]);
    } finally {
      await migrated.drop();
      await fromTemplate.drop();
    }
  }, 120_000);
});
