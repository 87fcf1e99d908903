// 0010: existing duplicate active names are renamed "name (n).ext" (oldest keeps its name), then the
// database refuses a second active entry of one name in a folder, on both dialects.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Migrator } from "kysely";
import { type Db, isUniqueViolation } from "../database.ts";
import type { FilesTable as FileRow } from "../schema.ts";
import { testDatabases } from "../testing.ts";
import { migrations } from "./index.ts";

const migrator = (db: Db, upTo: string) =>
  new Migrator({
    db,
    provider: {
      getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([k]) => k <= upTo)),
    },
  });

const row = (id: string, name: string, at: number, extra: Partial<FileRow> = {}): FileRow => ({
  id,
  owner_id: "u1",
  parent_id: "",
  name,
  kind: "file",
  blob_sha256: null,
  size: 0,
  status: "active",
  created_at: at,
  updated_at: at,
  deleted_at: null,
  trashed_with: null,
  ...extra,
});

for (const t of testDatabases()) {
  describe(`migration 0010 (${t.dialect})`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await t.open({ migrate: false }));
      expect((await migrator(db, "0009_revoked_sessions").migrateToLatest()).error).toBeUndefined();
      await db
        .insertInto("users")
        .values({
          id: "u1",
          username: "a",
          username_key: "a",
          password_hash: "x",
          created_at: 0,
          last_active_at: 0,
        })
        .execute();
      await db
        .insertInto("files")
        .values([
          row("a3", "a.txt", 3),
          row("a1", "a.txt", 1),
          row("a2", "a.txt", 2),
          row("a4", "a (2).txt", 0),
          row("c1", "A.txt", 5),
          row("t1", "a.txt", 0, { status: "trashed", deleted_at: 1, trashed_with: "t1" }),
          row("f1", "dir", 0, { kind: "folder" }),
          row("f2", "dir", 1, { kind: "folder" }),
          row("s1", "a.txt", 0, { parent_id: "f1" }),
        ])
        .execute();
      expect((await migrator(db, "9999").migrateToLatest()).error).toBeUndefined();
    });
    afterAll(() => drop());

    const names = async () =>
      Object.fromEntries(
        (await db.selectFrom("files").select(["id", "name"]).execute()).map((r) => [r.id, r.name]),
      );

    test("the oldest keeps its name; later ones take the first free numbers", async () => {
      expect(await names()).toEqual({
        a1: "a.txt",
        a2: "a (3).txt",
        a3: "a (4).txt",
        a4: "a (2).txt",
        c1: "A.txt",
        t1: "a.txt",
        f1: "dir",
        f2: "dir (2)",
        s1: "a.txt",
      });
    });

    test("the database refuses a second active entry of a name; trashed ones and other cases pass", async () => {
      const err = await db
        .insertInto("files")
        .values(row("x1", "a.txt", 9))
        .execute()
        .catch((e) => e);
      expect(isUniqueViolation(err)).toBe(true);
      await db
        .insertInto("files")
        .values(row("x2", "a.txt", 9, { status: "trashed", trashed_with: "x2" }))
        .execute();
      await db
        .insertInto("files")
        .values(row("x3", "a.TXT", 9))
        .execute();
      // Trashing frees the name, restoring into a taken one is refused.
      await db.updateTable("files").set({ status: "trashed" }).where("id", "=", "a1").execute();
      await db
        .insertInto("files")
        .values(row("x4", "a.txt", 9))
        .execute();
      const back = await db
        .updateTable("files")
        .set({ status: "active" })
        .where("id", "=", "a1")
        .execute()
        .catch((e) => e);
      expect(isUniqueViolation(back)).toBe(true);
    });

    test("SELECT * does not show the helper column", async () => {
      const r = await db.selectFrom("files").selectAll().where("id", "=", "a1").executeTakeFirstOrThrow();
      expect(Object.keys(r)).not.toContain("active_name");
    });
  });
}
