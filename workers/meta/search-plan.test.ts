// SearchFiles on 100 000 entries: the database's own plan (EXPLAIN) reads the gram postings by their
// primary key and each candidate by the files primary key, on both dialects — never a scan of the files
// table — for long and short queries, with and without filters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { Db } from "./db/database.ts";
import { orderedSelects, planOf } from "./db/plans.ts";
import type { FilesTable } from "./db/schema.ts";
import { testDatabases } from "./db/testing.ts";
import { nameKey, storedGrams } from "./name-index.ts";
import { type SearchOptions, searchFiles } from "./search.ts";
import * as store from "./users.ts";

// 100 000 entries on SQLite; on the shared MariaDB of the test machines writing 2.5 million grams takes
// minutes, so 25 000 there (its plan is chosen from the same statistics shape; SEARCH_PLAN_ENTRIES overrides).
const entriesFor = (dialect: string) =>
  Number(process.env.SEARCH_PLAN_ENTRIES ?? (dialect === "sqlite" ? 100_000 : 25_000));
const WORDS = [
  "sunset",
  "invoice",
  "holiday",
  "budget",
  "résumé",
  "kitten",
  "report",
  "draft",
  "scan",
  "notes",
];
const EXTS = ["jpg", "pdf", "mp4", "txt", "zip", "mp3"];

async function insertRows(db: Db, owner: string, parents: string[], count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const files: FilesTable[] = [];
    const grams: { owner_id: string; gram: string; file_id: string }[] = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const name = `${WORDS[j % 10]}-${WORDS[(j * 7) % 10]}-${j}.${EXTS[j % 6]}`;
      const row: FilesTable = {
        id: crypto.randomUUID(),
        owner_id: owner,
        parent_id: parents[j % parents.length] as string,
        name,
        name_key: nameKey(name),
        kind: "file",
        blob_sha256: null,
        size: j % 1000,
        status: "active",
        created_at: j,
        updated_at: j,
        deleted_at: null,
        trashed_with: null,
      };
      files.push(row);
      for (const gram of storedGrams(row.name_key as string))
        grams.push({ owner_id: owner, gram, file_id: row.id });
    }
    await db.insertInto("files").values(files).execute();
    for (let k = 0; k < grams.length; k += 5000)
      await db
        .insertInto("file_name_grams")
        .values(grams.slice(k, k + 5000))
        .execute();
  }
}

for (const target of testDatabases()) {
  const ENTRIES = entriesFor(target.dialect);
  describe(`SearchFiles plans on ${target.dialect} over ${ENTRIES} entries`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let owner: string;
    const folders = [crypto.randomUUID(), crypto.randomUUID()];
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      owner = (await store.createUser(db, "alice", "x", 0)).id;
      const other = (await store.createUser(db, "bob", "x", 0)).id;
      await db
        .insertInto("files")
        .values(
          folders.map((id, i) => ({
            id,
            owner_id: owner,
            parent_id: "",
            name: `folder-${i}`,
            name_key: `folder-${i}`,
            kind: "folder" as const,
            blob_sha256: null,
            size: 0,
            status: "active" as const,
            created_at: 0,
            updated_at: 0,
            deleted_at: null,
            trashed_with: null,
          })),
        )
        .execute();
      await insertRows(db, owner, folders, ENTRIES);
      await insertRows(db, other, [""], 10_000);
      if (target.dialect === "mysql") await sql`ANALYZE TABLE files, file_name_grams`.execute(db);
      else await sql`ANALYZE`.execute(db);
    }, 600_000);
    afterAll(() => drop());

    async function expectIndexed(o: Omit<SearchOptions, "ownerId">) {
      const rec = orderedSelects(db);
      const res = await searchFiles(rec.db, { ownerId: owner, ...o });
      expect(rec.seen).toHaveLength(1);
      const [q] = rec.seen;
      if (!q) return res;
      const { text, rows: plan } = await planOf(db, target.dialect, q);
      if (target.dialect === "mysql") {
        const rows = plan.map((r) => ({ table: r.table, type: r.type, key: r.key }));
        const shown = { sql: text, rows };
        // The postings by their primary key (a range of grams), each candidate by the files primary key.
        expect(shown).toEqual({
          ...shown,
          rows: rows.map((r) =>
            r.table === "files"
              ? { ...r, type: "eq_ref", key: "PRIMARY" }
              : r.table === "file_name_grams"
                ? { ...r, key: "PRIMARY" }
                : r,
          ),
        });
        expect(
          rows.some((r) => r.table === "file_name_grams" && ["ref", "range"].includes(String(r.type))),
        ).toBe(true);
      } else {
        const details = plan.map((r) => String(r.detail));
        const shown = { sql: text, details };
        expect(shown).toEqual({ ...shown, details: details.filter((d) => !/^SCAN files\b/.test(d)) });
        expect(
          details.some((d) => /^SEARCH file_name_grams USING (COVERING INDEX|PRIMARY KEY)/.test(d)),
        ).toBe(true);
        expect(
          details.some((d) => /^SEARCH files USING INDEX sqlite_autoindex_files_1 \(id=\?\)/.test(d)),
        ).toBe(true);
      }
      return res;
    }

    test("a long query: postings of its grams, candidates by primary key; the right matches", async () => {
      const res = await expectIndexed({ query: "Invoice-Draft-99", pageSize: 1000 });
      expect(res.files.length).toBeGreaterThan(0);
      for (const f of res.files) expect(f.name.startsWith("invoice-draft-99")).toBe(true);
      const total = res.files.length;
      let want = 0;
      for (let j = 0; j < ENTRIES; j++)
        if (`${WORDS[j % 10]}-${WORDS[(j * 7) % 10]}-${j}`.startsWith("invoice-draft-99")) want++;
      expect(total).toBe(want);
    });

    test("accents, a short query, a folder, a category and a page further on: still by the index", async () => {
      const accent = await expectIndexed({ query: "RESUME-scan-9", pageSize: 10 });
      expect(accent.files[0]?.name).toMatch(/^résumé-scan-9/);
      await expectIndexed({ query: "ki", pageSize: 50 });
      await expectIndexed({ query: "sunset", folderId: folders[0], category: "image", pageSize: 20 });
      const first = await expectIndexed({
        query: "invoice",
        sort: "updated_at",
        descending: true,
        pageSize: 20,
      });
      await expectIndexed({
        query: "invoice",
        sort: "updated_at",
        descending: true,
        pageSize: 20,
        pageToken: first.nextPageToken,
      });
    });
  });
}
