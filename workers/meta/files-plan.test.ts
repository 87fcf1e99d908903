// ListFiles on a big folder: every sort order and direction, first page and later pages, reads one index
// range in order — the database's own plan (EXPLAIN) says so on both dialects — and paging returns every
// entry once, in the documented order.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { Db } from "./db/database.ts";
import { orderedSelects, planOf } from "./db/plans.ts";
import type { FilesTable } from "./db/schema.ts";
import { testDatabases } from "./db/testing.ts";
import * as listing from "./listing.ts";
import * as store from "./users.ts";

const FOLDERS = 400;
const FILES = 4000;

/** Rows of a folder: sizes and times repeat (ties are broken by id), names are distinct. */
function entries(ownerId: string, parentId: string, folders: number, count: number, status = "active") {
  const rows: FilesTable[] = [];
  for (let i = 0; i < folders + count; i++) {
    const folder = i < folders;
    rows.push({
      id: crypto.randomUUID(),
      owner_id: ownerId,
      parent_id: parentId,
      name: `${folder ? "dir" : "file"}-${((i * 7919) % 100_000).toString().padStart(5, "0")}-${i}`,
      kind: folder ? "folder" : "file",
      blob_sha256: null,
      size: folder ? 0 : i % 13,
      status: status as FilesTable["status"],
      created_at: 1000 + (i % 17),
      updated_at: 1000 + (i % 17),
      deleted_at: status === "active" ? null : 5000,
      trashed_with: null,
    });
  }
  return rows;
}

async function insertAll(db: Db, rows: FilesTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto("files")
      .values(rows.slice(i, i + 500))
      .execute();
}

/** The documented order: folders first, then by key, ties by id, each in the requested direction. */
function expectedOrder(rows: FilesTable[], sort: listing.SortKey, desc: boolean): string[] {
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  return rows
    .slice()
    .sort((a, b) => {
      if (a.kind !== b.kind) return a.kind === "folder" ? -1 : 1;
      const c = cmp(a[sort], b[sort]) || cmp(a.id, b.id);
      return desc ? -c : c;
    })
    .map((r) => r.id);
}

for (const target of testDatabases()) {
  describe(`ListFiles plans on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let owner: string;
    let big: FilesTable[];
    const bigFolder = crypto.randomUUID();
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      owner = (await store.createUser(db, "alice", "x", 0)).id;
      const other = (await store.createUser(db, "bob", "x", 0)).id;
      big = entries(owner, bigFolder, FOLDERS, FILES);
      const parent = entries(owner, "", 0, 0);
      parent.push({ ...(entries(owner, "", 1, 0)[0] as FilesTable), id: bigFolder, name: "big" });
      await insertAll(db, [
        ...parent,
        ...big,
        ...entries(owner, "", 20, 300),
        // Another big folder: the owner's entries of one kind are no narrower a range than the folder's.
        ...entries(owner, crypto.randomUUID(), FOLDERS, FILES),
        ...entries(owner, crypto.randomUUID(), 10, 500, "trashed"),
        ...entries(other, "", 50, 1500),
      ]);
      if (target.dialect === "mysql") await sql`ANALYZE TABLE files`.execute(db);
      else await sql`ANALYZE`.execute(db);
    }, 120_000);
    afterAll(() => drop());

    /**
     * Asserts that every listing query of `call` reads an index range in order, with no sort step: on
     * SQLite `index` itself; on MariaDB, whose cost-based choice depends on the statistics, `index` or
     * another index that serves the same order (`alike`).
     */
    async function expectIndexOrder(
      call: (db: Db) => Promise<unknown>,
      index: string,
      alike: string[] = [],
    ): Promise<void> {
      const rec = orderedSelects(db);
      await call(rec.db);
      expect(rec.seen.length).toBeGreaterThan(0);
      for (const q of rec.seen) {
        const { text, rows } = await planOf(db, target.dialect, q);
        if (target.dialect === "mysql") {
          const files = rows.find((r) => r.table === "files");
          const extras = rows.map((r) => String(r.Extra ?? ""));
          const shown = { sql: text, type: files?.type, key: files?.key, extras };
          const key = [index, ...alike].includes(String(files?.key)) ? files?.key : index;
          expect(shown).toEqual({
            ...shown,
            type: ["ref", "range"].includes(String(files?.type)) ? files?.type : "ref or range",
            key,
            extras: extras.map((e) => e.replace(/Using (filesort|temporary)/g, "")),
          });
        } else {
          const details = rows.map((r) => String(r.detail));
          const shown = { sql: text, details };
          expect(shown).toEqual({
            ...shown,
            details: details.filter((d) => !d.includes("TEMP B-TREE")),
          });
          expect(details.some((d) => d.startsWith(`SEARCH files USING INDEX ${index} `))).toBe(true);
        }
      }
    }

    for (const sort of ["name", "size", "updated_at"] as const) {
      for (const descending of [false, true]) {
        const o = () => ({ ownerId: owner, parentId: bigFolder, sort, descending, pageSize: 100 });
        // The owner's entries of one kind are in the order too, and by name so are the folder's entries.
        const alike = [`files_all_${sort}`, ...(sort === "name" ? ["files_owner_parent"] : [])];

        test(`${sort} ${descending ? "descending" : "ascending"}: pages come from files_list_${sort}, in order`, async () => {
          const first = await listing.listFiles(db, o());
          await expectIndexOrder((d) => listing.listFiles(d, o()), `files_list_${sort}`, alike);
          // A cursor among the folders (this page ends in the files) and one among the files.
          const inFolders = await listing.listFiles(db, { ...o(), pageSize: FOLDERS - 50 });
          const midFolders = { ...o(), pageToken: inFolders.nextPageToken };
          await expectIndexOrder((d) => listing.listFiles(d, midFolders), `files_list_${sort}`, alike);
          const midFiles = { ...o(), pageToken: (await listing.listFiles(db, midFolders)).nextPageToken };
          await expectIndexOrder((d) => listing.listFiles(d, midFiles), `files_list_${sort}`, alike);
          expect(first.files).toHaveLength(100);
        });

        test(`${sort} ${descending ? "descending" : "ascending"}: paging returns every entry once, in order`, async () => {
          const seen: string[] = [];
          let pageToken = "";
          do {
            const page = await listing.listFiles(db, { ...o(), pageSize: 700, pageToken });
            seen.push(...page.files.map((f) => f.id));
            pageToken = page.nextPageToken;
          } while (pageToken);
          expect(seen).toEqual(expectedOrder(big, sort, descending));
        });

        test(`every folder, ${sort} ${descending ? "descending" : "ascending"}: pages come from files_all_${sort}`, async () => {
          const all = { ownerId: owner, parentId: "", allFolders: true, sort, descending, pageSize: 100 };
          await expectIndexOrder((d) => listing.listFiles(d, all), `files_all_${sort}`);
          const next = { ...all, pageToken: (await listing.listFiles(db, all)).nextPageToken };
          await expectIndexOrder((d) => listing.listFiles(d, next), `files_all_${sort}`);
        });
      }
    }
  });
}
