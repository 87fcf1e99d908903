// The schema rules that keep the way past one database server open (MariaDB Galera with one writer, TiDB;
// docs/architecture.md, "Schema rules"), checked on the migrated schema of each dialect and in meta's code:
// a primary key on every table (Galera replicates rows by it), no auto-increment columns (their order and
// gaps differ between nodes), no table locks (Galera does not replicate LOCK TABLES).
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { testDatabases } from "./testing.ts";

const META = join(import.meta.dir, "..");

for (const d of testDatabases()) {
  describe(`schema rules (${d.dialect})`, async () => {
    const { db, drop } = await d.open();
    afterAll(drop);

    test("every table has a primary key", async () => {
      let tables: string[];
      let withoutKey: string[];
      if (d.dialect === "sqlite") {
        const rows = await sql<{ name: string }>`
          SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db);
        tables = rows.rows.map((r) => r.name);
        withoutKey = [];
        for (const name of tables) {
          const cols = await sql<{ pk: number }>`SELECT pk FROM pragma_table_info(${name})`.execute(db);
          if (!cols.rows.some((c) => c.pk > 0)) withoutKey.push(name);
        }
      } else {
        const rows = await sql<{ t: string; keyed: number }>`
          SELECT t.table_name AS t, EXISTS (
            SELECT 1 FROM information_schema.table_constraints c
            WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name
              AND c.constraint_type = 'PRIMARY KEY') AS keyed
          FROM information_schema.tables t WHERE t.table_schema = DATABASE()`.execute(db);
        tables = rows.rows.map((r) => r.t);
        withoutKey = rows.rows.filter((r) => !Number(r.keyed)).map((r) => r.t);
      }
      expect(tables).toContain("files"); // the query saw the schema, not an empty database
      expect(withoutKey).toEqual([]);
    });

    test("no auto-increment column", async () => {
      if (d.dialect === "sqlite") {
        // AUTOINCREMENT makes SQLite keep sqlite_sequence.
        const seq = await sql<{ n: number }>`
          SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'`.execute(db);
        expect(Number(seq.rows[0]?.n)).toBe(0);
      } else {
        const cols = await sql<{ t: string; c: string }>`
          SELECT table_name AS t, column_name AS c FROM information_schema.columns
          WHERE table_schema = DATABASE() AND extra LIKE '%auto_increment%'`.execute(db);
        expect(cols.rows).toEqual([]);
      }
    });
  });
}

test("meta never locks a table (LOCK TABLES, LOCK IN SHARE MODE on whole tables)", () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? sources(join(dir, e.name))
        : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")
          ? [join(dir, e.name)]
          : [],
    );
  const files = sources(META);
  expect(files.length).toBeGreaterThan(20);
  const offenders = files.filter((f) =>
    /\bLOCK\s+TABLES?\b|\bLOCK\s+IN\s+SHARE\s+MODE\b/i.test(readFileSync(f, "utf8")),
  );
  expect(offenders).toEqual([]);
});
