// A folder's trash and restore in batches (subtree-moves.ts), on both databases: the same end state as one
// transaction would leave, however many batches it takes; a move cut short (as by a crash, stopAfter) is
// recorded, and finished by meta's start (resumeSubtreeMoves) or by the next call on that folder; a name
// taken while a restore ran gets the next free name rather than failing half-way.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import * as listing from "./listing.ts";
import { resumeSubtreeMoves } from "./subtree-moves.ts";
import * as trashing from "./trash.ts";
import * as store from "./users.ts";

// Opening a MariaDB database migrates a schema first: slow on a busy machine.
setDefaultTimeout(120_000);

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "d");

for (const target of testDatabases()) {
  describe(`subtree moves in batches on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let clock = 1_000;
    const now = () => ++clock;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
    });
    afterAll(() => drop());

    const user = async (name: string) => (await store.createUser(db, name, "x", 0)).id;
    const addFile = async (ownerId: string, parentId: string, name: string) => {
      const h = sha();
      const blob = { sha256: h, sha1: h.slice(24), size: 3, backend: "local", location: `loc/${h}` };
      return (await content.addFileWithContent(db, { ownerId, parentId, name }, blob, now())).file;
    };
    const folder = (ownerId: string, parentId: string, name: string) =>
      files.createFolder(db, { ownerId, parentId, name }, now());
    /** A folder "top" holding 7 files and two subfolders of 5 files each, one with a subfolder of 3. */
    const tree = async (ownerId: string) => {
      const top = await folder(ownerId, "", "top");
      for (let i = 0; i < 7; i++) await addFile(ownerId, top.id, `f${i}.txt`);
      const a = await folder(ownerId, top.id, "a");
      const b = await folder(ownerId, top.id, "b");
      for (let i = 0; i < 5; i++) await addFile(ownerId, a.id, `a${i}.txt`);
      for (let i = 0; i < 5; i++) await addFile(ownerId, b.id, `b${i}.txt`);
      const c = await folder(ownerId, a.id, "c");
      for (let i = 0; i < 3; i++) await addFile(ownerId, c.id, `c${i}.txt`);
      return { top, size: 1 + 7 + 2 + 10 + 1 + 3 };
    };
    const states = async (ownerId: string) => {
      const rows = await db
        .selectFrom("files")
        .select(["status", "trashed_with"])
        .where("owner_id", "=", ownerId)
        .execute();
      const count = (status: string) => rows.filter((r) => r.status === status).length;
      return { active: count("active"), trashed: count("trashed"), rows };
    };
    const pending = async () => (await db.selectFrom("subtree_moves").select("root_id").execute()).length;

    test("trash and restore in batches of 2 move every row, as one transaction would, and leave no record", async () => {
      const alice = await user("batch-all");
      const { top, size } = await tree(alice);
      const trashed = await trashing.trashFile(db, alice, top.id, now(), { batch: 2 });
      expect(trashed.count).toBe(size);
      const after = await states(alice);
      expect(after.active).toBe(0);
      expect(after.rows.every((r) => r.trashed_with === top.id)).toBe(true);
      expect(await pending()).toBe(0);
      const back = await trashing.restoreFile(db, alice, top.id, now(), undefined, {}, { batch: 2 });
      expect(back).toMatchObject({ id: top.id, status: "active", name: "top", parent_id: "" });
      expect((await states(alice)).active).toBe(size);
      expect(await pending()).toBe(0);
      const listed = await listing.listFiles(db, { ownerId: alice, parentId: top.id, pageSize: 100 });
      const names = listed.files.map((f) => f.name).sort();
      expect(names).toEqual(["a", "b", ...[0, 1, 2, 3, 4, 5, 6].map((i) => `f${i}.txt`)]);
    });

    test("a trash cut short leaves the folder in the trash and a record; meta's start finishes it", async () => {
      const bob = await user("batch-crash-trash");
      const { top, size } = await tree(bob);
      await trashing.trashFile(db, bob, top.id, now(), { batch: 2, stopAfter: 3 });
      const half = await states(bob);
      expect(half.trashed).toBe(1 + 6);
      expect(await pending()).toBe(1);
      // The folder is out of its parent's listing and in the trash at once.
      expect((await listing.listFiles(db, { ownerId: bob, parentId: "", pageSize: 10 })).files).toEqual([]);
      expect((await listing.listTrash(db, { ownerId: bob, pageSize: 10 })).files.map((f) => f.id)).toEqual([
        top.id,
      ]);
      expect(await resumeSubtreeMoves(db, { batch: 2 })).toBe(1);
      const done = await states(bob);
      expect(done.active).toBe(0);
      expect(done.trashed).toBe(size);
      expect(await pending()).toBe(0);
    });

    test("a restore cut short keeps the folder in the trash; restoring again finishes it", async () => {
      const carol = await user("batch-crash-restore");
      const { top, size } = await tree(carol);
      await trashing.trashFile(db, carol, top.id, now());
      const first = await trashing.restoreFile(
        db,
        carol,
        top.id,
        now(),
        undefined,
        {},
        { batch: 4, stopAfter: 2 },
      );
      // The subtree comes back first, bottom-up (c's 3 files, then 4 of a's and b's children); the folder
      // itself, the way to it, last.
      expect(first.status).toBe("trashed");
      expect((await states(carol)).active).toBe(7);
      expect(await pending()).toBe(1);
      // A purge now would first finish the restore: the folder is then no longer in the trash.
      const again = await trashing.restoreFile(db, carol, top.id, now());
      expect(again).toMatchObject({ status: "active", name: "top" });
      expect((await states(carol)).active).toBe(size);
      expect(await pending()).toBe(0);
    });

    test("a name taken while a restore ran: the folder comes back as 'name (2)' (policy FAIL passed at its start)", async () => {
      const dave = await user("batch-name-race");
      const { top, size } = await tree(dave);
      await trashing.trashFile(db, dave, top.id, now());
      await trashing.restoreFile(db, dave, top.id, now(), undefined, {}, { batch: 4, stopAfter: 1 });
      await folder(dave, "", "top");
      const back = await trashing.restoreFile(db, dave, top.id, now());
      expect(back).toMatchObject({ id: top.id, status: "active", name: "top (2)" });
      expect((await states(dave)).active).toBe(size + 1);
    });

    test("a name taken before a restore starts answers NameTakenError and changes nothing", async () => {
      const erin = await user("batch-name-taken");
      const { top, size } = await tree(erin);
      await trashing.trashFile(db, erin, top.id, now());
      await folder(erin, "", "top");
      await expect(trashing.restoreFile(db, erin, top.id, now())).rejects.toBeInstanceOf(
        files.NameTakenError,
      );
      const s = await states(erin);
      expect(s.trashed).toBe(size);
      expect(await pending()).toBe(0);
    });

    test("an entry already back, trashed again while its restore runs, takes its whole subtree along", async () => {
      const gus = await user("batch-retrash");
      const { top, size } = await tree(gus);
      await trashing.trashFile(db, gus, top.id, now());
      // Batch 1 brings back c's 3 files, batch 2 four of a's and b's children (c among them or not).
      await trashing.restoreFile(db, gus, top.id, now(), undefined, {}, { batch: 4, stopAfter: 2 });
      const back = await db
        .selectFrom("files")
        .select(["id", "kind"])
        .where("owner_id", "=", gus)
        .where("status", "=", "active")
        .execute();
      const c = (
        await db
          .selectFrom("files")
          .select("id")
          .where("owner_id", "=", gus)
          .where("name", "=", "c")
          .executeTakeFirstOrThrow()
      ).id;
      // Whatever is back has its subtree back: c's files are all back before c is.
      expect(back.length).toBe(7);
      const again = await trashing.trashFile(db, gus, c, now());
      const cBack = back.some((r) => r.id === c);
      expect(again.count).toBe(cBack ? 4 : 0);
      await trashing.restoreFile(db, gus, top.id, now());
      const s = await states(gus);
      expect(s.active).toBe(cBack ? size - 4 : size);
    });

    test("a restored entry renamed onto the name of one still coming: that one comes back as 'name (2)'", async () => {
      const hal = await user("batch-clash");
      const { top, size } = await tree(hal);
      await trashing.trashFile(db, hal, top.id, now());
      await trashing.restoreFile(db, hal, top.id, now(), undefined, {}, { batch: 2, stopAfter: 1 });
      const cs = await db
        .selectFrom("files")
        .select(["id", "name", "status"])
        .where("owner_id", "=", hal)
        .where("name", "like", "c_.txt")
        .execute();
      const active = cs.find((r) => r.status === "active");
      const coming = cs.find((r) => r.status === "trashed");
      if (!active || !coming) throw new Error("expected one of c's files back and one still coming");
      await files.renameFile(db, hal, active.id, coming.name, now());
      await trashing.restoreFile(db, hal, top.id, now());
      expect((await states(hal)).active).toBe(size);
      const renamed = await db
        .selectFrom("files")
        .select("name")
        .where("id", "=", coming.id)
        .executeTakeFirstOrThrow();
      expect(renamed.name).toBe(coming.name.replace(".txt", " (2).txt"));
    });

    test("a purge of a folder whose trash was cut short purges the whole subtree", async () => {
      const fay = await user("batch-purge");
      const { top, size } = await tree(fay);
      await trashing.trashFile(db, fay, top.id, now(), { batch: 2, stopAfter: 2 });
      const purged = await trashing.purgeTrashed(db, fay, top.id, now());
      expect(purged.count).toBe(size);
      expect((await states(fay)).rows).toEqual([]);
      expect(await pending()).toBe(0);
    });
  });
}
