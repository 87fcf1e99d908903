import { type Kysely, sql } from "kysely";
import { firstFreeName } from "../../../lib/names.ts";
import { isMysql } from "../dialect.ts";

// Exactly one active entry per name in a folder, held by the database itself so it stands under
// concurrency: a unique index over (owner_id, parent_id, name) of the active rows only. SQLite has partial
// indexes. MariaDB/MySQL do not, so there the index covers a generated column that is the name while the
// row is active and NULL otherwise (NULLs never collide in a unique index); it is INVISIBLE so SELECT *
// and inserts ignore it, and binary so names differing only in case stay distinct whatever the
// database's default collation.
//
// Existing duplicates are resolved first: the oldest entry keeps its name, the later ones become
// "name (2).ext", "name (3).ext", … (the first free ones in that folder).

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await renameDuplicates(db);
  if (isMysql(db)) {
    await sql`ALTER TABLE files ADD COLUMN active_name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
      AS (CASE WHEN status = 'active' THEN name END) PERSISTENT INVISIBLE`.execute(db);
    await sql`CREATE UNIQUE INDEX files_active_name ON files (owner_id, parent_id, active_name)`.execute(db);
  } else {
    await sql`CREATE UNIQUE INDEX files_active_name ON files (owner_id, parent_id, name)
      WHERE status = 'active'`.execute(db);
  }
}

/** Renames every active entry whose name an older active entry of its folder already has. */
async function renameDuplicates(db: AnyDb): Promise<void> {
  // Grouped by the database's collation, which may fold case: a superset, split exactly below.
  const groups = await db
    .selectFrom("files")
    .select(["owner_id", "parent_id"])
    .where("status", "=", "active")
    .groupBy(["owner_id", "parent_id", "name"])
    .having((eb) => eb.fn.countAll(), ">", 1)
    .execute();
  const folders = new Map(groups.map((g) => [`${g.owner_id}/${g.parent_id}`, g]));
  for (const { owner_id, parent_id } of folders.values()) {
    const rows: { id: string; name: string }[] = await db
      .selectFrom("files")
      .select(["id", "name"])
      .where("owner_id", "=", owner_id)
      .where("parent_id", "=", parent_id)
      .where("status", "=", "active")
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    const taken = new Set(rows.map((r) => r.name));
    const seen = new Set<string>();
    for (const r of rows) {
      if (!seen.has(r.name)) {
        seen.add(r.name);
        continue;
      }
      const name = firstFreeName(r.name, taken);
      taken.add(name);
      seen.add(name);
      await db.updateTable("files").set({ name }).where("id", "=", r.id).execute();
    }
  }
}

export async function down(db: AnyDb): Promise<void> {
  if (isMysql(db)) {
    await sql`DROP INDEX files_active_name ON files`.execute(db);
    await sql`ALTER TABLE files DROP COLUMN active_name`.execute(db);
  } else {
    await sql`DROP INDEX files_active_name`.execute(db);
  }
}
