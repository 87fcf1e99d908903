// Test helper: the databases the data-layer suites run against. SQLite always; MariaDB/MySQL when
// TEST_MYSQL_URL is set (CI sets it and insists on it, so the MySQL half cannot silently vanish).
import { createConnection } from "mysql2/promise";
import { type Db, migrateToLatest, openDatabase } from "./database.ts";
import { applySchema, migratedSchema } from "./testing-schema.ts";

export interface TestDatabase {
  dialect: "sqlite" | "mysql";
  /** A fresh database, migrated to the latest version unless `migrate` is false (migration tests). */
  open(opts?: { migrate?: boolean }): Promise<{ db: Db; drop(): Promise<void>; url?: string }>;
}

export function testDatabases(): TestDatabase[] {
  const out: TestDatabase[] = [
    {
      dialect: "sqlite",
      async open({ migrate = true } = {}) {
        const db = openDatabase("sqlite::memory:");
        if (migrate) await migrateToLatest(db);
        return { db, drop: () => db.destroy() };
      },
    },
  ];
  const url = process.env.TEST_MYSQL_URL;
  if (!url && process.env.CI)
    throw new Error("CI must set TEST_MYSQL_URL: the data layer is tested on MySQL too");
  if (url) {
    out.push({
      dialect: "mysql",
      async open({ migrate = true } = {}) {
        // A fresh database per suite, so runs never see each other's rows.
        const name = `filestore_t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
        const admin = await createConnection(url);
        await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
        const u = new URL(url);
        u.pathname = `/${name}`;
        if (migrate) await applySchema(u.toString(), await migratedSchema(url));
        const db = openDatabase(u.toString());
        return {
          db,
          url: u.toString(),
          async drop() {
            await db.destroy();
            await admin.query(`DROP DATABASE ${name}`);
            await admin.end();
          },
        };
      },
    });
  }
  return out;
}
