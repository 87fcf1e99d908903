// MariaDB test databases from a template: running the ~30 migrations takes 3-5 s per database (DDL one
// statement at a time, ALTERs rebuilding tables), the final schema 0.5-1.5 s. The migrations still run
// once per process (to make the template) and on their own in the migration tests (open({migrate:false})).
import { createConnection } from "mysql2/promise";
import { migrateToLatest, openDatabase } from "./database.ts";

/** A migrated database's tables (their CREATE statements) and the rows the migrations left in them. */
export interface Schema {
  ddl: string[];
  rows: Array<{ table: string; rows: Record<string, unknown>[] }>;
}

let template: Promise<Schema> | undefined;

/** The schema of a database migrated to the latest version, made once per process. */
export function migratedSchema(serverUrl: string): Promise<Schema> {
  template ??= readSchema(serverUrl).catch((err) => {
    template = undefined;
    throw err;
  });
  return template;
}

async function readSchema(serverUrl: string): Promise<Schema> {
  const name = `filestore_tpl${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const admin = await createConnection(serverUrl);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  try {
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    const db = openDatabase(u.toString());
    await migrateToLatest(db);
    await db.destroy();
    const [tables] = await admin.query(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
      [name],
    );
    const schema: Schema = { ddl: [], rows: [] };
    for (const { t } of tables as Array<{ t: string }>) {
      const [shown] = await admin.query(`SHOW CREATE TABLE \`${name}\`.\`${t}\``);
      const create = (shown as Array<Record<string, string>>)[0]?.["Create Table"] as string;
      schema.ddl.push(create.replace(/ AUTO_INCREMENT=\d+/, ""));
      const [rows] = await admin.query(`SELECT * FROM \`${name}\`.\`${t}\``);
      if ((rows as unknown[]).length > 0)
        schema.rows.push({ table: t, rows: rows as Record<string, unknown>[] });
    }
    return schema;
  } finally {
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  }
}

/** Creates the schema's tables and rows in the (empty) database at `url`. */
export async function applySchema(url: string, schema: Schema): Promise<void> {
  const conn = await createConnection({ uri: url, multipleStatements: true });
  try {
    // Foreign keys off while creating: the tables come in name order, not in dependency order.
    await conn.query(`SET FOREIGN_KEY_CHECKS=0;\n${schema.ddl.join(";\n")};\nSET FOREIGN_KEY_CHECKS=1`);
    for (const { table, rows } of schema.rows) {
      const cols = Object.keys(rows[0] as object);
      const values = rows.map((r) => cols.map((c) => r[c]));
      await conn.query(`INSERT INTO \`${table}\` (${cols.map((c) => `\`${c}\``).join(", ")}) VALUES ?`, [
        values,
      ]);
    }
  } finally {
    await conn.end();
  }
}
