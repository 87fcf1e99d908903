import { type Kysely, sql } from "kysely";
import { isMysql } from "../dialect.ts";

// Search by name (workers/meta/name-index.ts, search.ts): each entry's normalised name (name_key; NULL
// until indexed) and its grams, keyed by (owner, gram, entry) so that a search reads only the postings of
// its own grams. Keys and grams compare as binary on MariaDB whatever the database's default collation:
// they are normalised already, and prefix ranges rely on code-point order. Grams go with their entry
// (ON DELETE CASCADE). Existing entries are indexed here; later ones by the code that writes them.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  const bin = (type: string) =>
    isMysql(db) ? sql.raw(`${type} character set utf8mb4 collate utf8mb4_bin`) : sql.raw(type);
  await db.schema.alterTable("files").addColumn("name_key", bin("varchar(1024)")).execute();
  await db.schema
    .createTable("file_name_grams")
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull())
    .addColumn("gram", bin("varchar(3)"), (c) => c.notNull())
    .addColumn("file_id", "varchar(36)", (c) => c.notNull().references("files.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("file_name_grams_pk", ["owner_id", "gram", "file_id"])
    .execute();
  await db.schema.createIndex("file_name_grams_file").on("file_name_grams").column("file_id").execute();
  // Finds entries not indexed yet (name_key NULL) without a scan; on MariaDB over a prefix of the key (the
  // whole of it would pass the 3072-byte limit of an index key).
  if (isMysql(db)) await sql`create index files_owner_name_key on files (owner_id, name_key(8))`.execute(db);
  else
    await db.schema
      .createIndex("files_owner_name_key")
      .on("files")
      .columns(["owner_id", "name_key"])
      .execute();
  await backfill(db);
}

const END = "\u0001";

// The migration's own copy of name-index.ts's rules (a migration must not change with later code).
// biome-ignore lint/suspicious/noExplicitAny: see up().
async function backfill(db: Kysely<any>): Promise<void> {
  for (;;) {
    const rows: { id: string; owner_id: string; name: string }[] = await db
      .selectFrom("files")
      .select(["id", "owner_id", "name"])
      .where("name_key", "is", null)
      .limit(1000)
      .execute();
    if (rows.length === 0) return;
    await db.transaction().execute(async (tx) => {
      const grams: { owner_id: string; gram: string; file_id: string }[] = [];
      for (const r of rows) {
        const key = r.name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
        await tx.updateTable("files").set({ name_key: key }).where("id", "=", r.id).execute();
        const chars = [...key, END, END];
        const seen = new Set<string>();
        for (let i = 0; i + 3 <= chars.length; i++) seen.add(chars.slice(i, i + 3).join(""));
        for (const gram of seen) grams.push({ owner_id: r.owner_id, gram, file_id: r.id });
      }
      for (let i = 0; i < grams.length; i += 500)
        await tx
          .insertInto("file_name_grams")
          .values(grams.slice(i, i + 500))
          .execute();
    });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("file_name_grams").execute();
  const drop = db.schema.dropIndex("files_owner_name_key");
  await (isMysql(db) ? drop.on("files") : drop).execute();
  await db.schema.alterTable("files").dropColumn("name_key").execute();
}
