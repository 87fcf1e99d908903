// Metadata at scale (issue 21; bench:metadata measures it): every statement of the paths that must stay
// fast at a million files — ListFiles first and deep page, GetFile, trash and restore of a folder's
// subtree, purge, a GC batch (claim and forget), the usage recount — reads through an index, never a scan
// of a table: the database's own plan says so (SQLite: EXPLAIN QUERY PLAN; MariaDB: EXPLAIN), on both.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { claimGarbage, findFile, forgetBlob } from "./content.ts";
import type { Db } from "./db/database.ts";
import { migrateToLatest, openDatabase } from "./db/database.ts";
import { allStatements, planOf, sqliteFilePlanOf } from "./db/plans.ts";
import type { BlobsTable, FilesTable } from "./db/schema.ts";
import { testDatabases } from "./db/testing.ts";
import { listCandidates } from "./derived.ts";
import * as listing from "./listing.ts";
import { recountUsage } from "./quota.ts";
import { purgeTrashed, restoreFile, trashFile } from "./trash.ts";
import * as store from "./users.ts";

// The purge plans hundreds of statements, each on a fresh connection: slow on a busy machine.
setDefaultTimeout(120_000);

const FOLDERS = 20;
const PER_FOLDER = 200;
const GARBAGE = 2000;

let n = 0;
const sha256Of = (i: number) => i.toString(16).padStart(64, "0");
const sha = () => sha256Of(++n);

function blob(sha256: string, refcount: number): BlobsTable {
  return {
    sha256,
    sha1: "",
    size: 10,
    backend: "local",
    location: `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.000000000000`,
    state: "ready",
    refcount,
    created_at: 1,
    unreferenced_at: refcount === 0 ? 1 : null,
  };
}

function row(ownerId: string, parentId: string, name: string, kind: "file" | "folder", content?: string) {
  return {
    id: crypto.randomUUID(),
    owner_id: ownerId,
    parent_id: parentId,
    name,
    kind,
    blob_sha256: content ?? null,
    size: content ? 10 : 0,
    status: "active",
    created_at: 1,
    updated_at: 1,
    deleted_at: null,
    trashed_with: null,
  } satisfies FilesTable;
}

/** An owner's tree: FOLDERS folders (one with a subfolder) of PER_FOLDER files, each with its own blob. */
async function seedOwner(db: Db, ownerId: string): Promise<string[]> {
  const folders: string[] = [];
  for (let f = 0; f < FOLDERS; f++) {
    const folder = row(ownerId, "", `folder-${f}`, "folder");
    const sub = row(ownerId, folder.id, "sub", "folder");
    folders.push(folder.id);
    const files: FilesTable[] = [folder, sub];
    const blobs: BlobsTable[] = [];
    for (let i = 0; i < PER_FOLDER; i++) {
      const s = sha();
      blobs.push(blob(s, 1));
      files.push(row(ownerId, i % 10 ? folder.id : sub.id, `file-${i}.txt`, "file", s));
    }
    await db.insertInto("blobs").values(blobs).execute();
    await db.insertInto("files").values(files).execute();
  }
  return folders;
}

for (const target of testDatabases()) {
  describe(`metadata paths at scale: plans on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let owner: string;
    let folders: string[];
    // SQLite in a file, so that a connection of its own can ask for the plans (see sqliteFilePlanOf).
    const file = join(tmpdir(), `scale-plan-${crypto.randomUUID()}.db`);
    beforeAll(async () => {
      if (target.dialect === "sqlite") {
        db = openDatabase(`sqlite:${file}`);
        await migrateToLatest(db);
        drop = async () => {
          await db.destroy();
          for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
        };
      } else ({ db, drop } = await target.open());
      owner = (await store.createUser(db, "alice", "x", 0)).id;
      folders = await seedOwner(db, owner);
      for (let u = 0; u < 4; u++) await seedOwner(db, (await store.createUser(db, `u${u}`, "x", 0)).id);
      for (let i = 0; i < GARBAGE; i += 500)
        await db
          .insertInto("blobs")
          .values(Array.from({ length: 500 }, () => blob(sha(), 0)))
          .execute();
      if (target.dialect === "mysql") await sql`ANALYZE TABLE files, blobs, users`.execute(db);
      else await sql`ANALYZE`.execute(db);
    }, 300_000);
    afterAll(() => drop());

    /** Runs `call`, then asserts that every statement it ran reads its tables through an index. */
    async function expectIndexed(call: (db: Db) => Promise<unknown>): Promise<void> {
      const rec = allStatements(db);
      await call(rec.db);
      expect(rec.seen.length).toBeGreaterThan(0);
      for (const q of rec.seen) {
        const { text, rows } =
          target.dialect === "sqlite" ? sqliteFilePlanOf(db, file, q) : await planOf(db, target.dialect, q);
        if (target.dialect === "mysql") {
          // type ALL is a table scan, index a scan of a whole index; key names the index used.
          const access = rows
            .filter((r) => r.table)
            .map((r) => ({ sql: text, table: r.table, type: r.type, key: r.key }));
          // No table at all: MariaDB saw from a unique key that no row matches ("Impossible WHERE…").
          if (access.length === 0)
            expect({ sql: text, rows }).toEqual({
              sql: text,
              rows: rows.filter((r) => /impossible where|no matching row/i.test(String(r.Extra))),
            });
          for (const a of access) {
            expect(a).toEqual({
              ...a,
              type: ["ALL", "index"].includes(String(a.type)) ? "an index lookup or range" : a.type,
              // const/system: at most one row, found by a unique key or known from the row before it.
              key: a.key ?? (["const", "system"].includes(String(a.type)) ? null : "an index"),
            });
          }
        } else {
          // SEARCH: a lookup or range of an index (or the rowid); SCAN: every row of a table or index.
          const details = rows.map((r) => String(r.detail));
          expect({ sql: text, details }).toEqual({
            sql: text,
            details: details.filter((d) => !/^SCAN /.test(d)),
          });
          expect(details.some((d) => d.startsWith("SEARCH "))).toBe(true);
        }
      }
    }

    test("the check fails on a statement that scans a table", async () => {
      const scan = (d: Db) => d.selectFrom("files").select("id").where("size", "=", 3).execute();
      expect(
        await expectIndexed(scan).then(
          () => "passed",
          () => "failed",
        ),
      ).toBe("failed");
    });

    test("ListFiles: the first page and a deep page (keyset token)", async () => {
      const o = { ownerId: owner, parentId: folders[3] as string, pageSize: 50 };
      await expectIndexed((d) => listing.listFiles(d, o));
      let token = "";
      for (let i = 0; i < 3; i++)
        token = (await listing.listFiles(db, { ...o, pageToken: token })).nextPageToken;
      expect(token).not.toBe("");
      await expectIndexed((d) => listing.listFiles(d, { ...o, pageToken: token }));
    });

    test("GetFile", async () => {
      const id = (await listing.listFiles(db, { ownerId: owner, parentId: folders[1] as string })).files[0]
        ?.id;
      await expectIndexed(async (d) => expect(await findFile(d, owner, id as string)).toBeDefined());
    });

    test("trash, restore and purge of a folder's subtree", async () => {
      const folder = folders[5] as string;
      await expectIndexed(async (d) =>
        expect((await trashFile(d, owner, folder, 100)).count).toBe(PER_FOLDER + 2),
      );
      await expectIndexed((d) => restoreFile(d, owner, folder, 200));
      await trashFile(db, owner, folder, 300);
      await expectIndexed(async (d) =>
        expect((await purgeTrashed(d, owner, folder, 400)).count).toBe(PER_FOLDER + 2),
      );
    });

    test("a GC batch: claim, then forget each claimed blob", async () => {
      let claimed: BlobsTable[] = [];
      await expectIndexed(async (d) => {
        claimed = await claimGarbage(d, 10_000, 1000, 100);
      });
      expect(claimed).toHaveLength(100);
      await expectIndexed((d) => forgetBlob(d, claimed[0]?.sha256 as string, claimed[0]?.location));
    });

    test("the thumbnail sweep's page of content after its cursor, each with the smallest name of its files", async () => {
      // Every upload is a candidate for a few seconds (the sweep's cursor lags): at a million files a scan
      // from the first row, or of every active file per candidate, is paid on every pass. Some content has
      // its thumbnail already (an empty table would make any plan of it look cheap).
      await db
        .insertInto("derived_blobs")
        .values(
          Array.from({ length: 300 }, (_, i) => ({
            sha256: sha256Of(2 * i + 1),
            kind: "thumb-256",
            state: "ready",
            backend: "local",
            location: `derived/${i}`,
            size: 1,
            created_at: 1,
          })),
        )
        .execute();
      if (target.dialect === "mysql") await sql`ANALYZE TABLE derived_blobs`.execute(db);
      else await sql`ANALYZE`.execute(db);
      const page = await listCandidates(db, "thumb-256", { createdAt: 1, sha256: sha256Of(100) }, 50);
      expect(page).toHaveLength(50);
      expect(page.every((c) => c.sha256 > sha256Of(100))).toBe(true);
      expect(page.filter((c) => c.name.startsWith("file-"))).not.toHaveLength(0);
      await expectIndexed((d) => listCandidates(d, "thumb-256", { createdAt: 1, sha256: sha256Of(100) }, 50));
    });

    test("the usage recount of a page of users", async () => {
      await expectIndexed(async (d) => expect((await recountUsage(d, 1, { limit: 3 })).checked).toBe(3));
    });
  });
}
