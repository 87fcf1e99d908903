// Folder depth limits on every path a folder can get deeper by, whole-subtree trash and purge however
// deep, and the repair of orphans, on both databases. Deep trees are written straight into the table
// (insertFolderChain): far faster than the API, and deeper than it allows, like trees made before the limit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { getDownloadTarget } from "./links.ts";
import * as listing from "./listing.ts";
import { repairOrphans } from "./orphans.ts";
import { insertFolderChain } from "./testing.ts";
import * as trashing from "./trash.ts";
import * as store from "./users.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "c");

for (const target of testDatabases()) {
  describe(`folder depth and whole subtrees on ${target.dialect}`, () => {
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
    const folder = (ownerId: string, parentId: string, name: string, maxDepth?: number) =>
      files.createFolder(db, { ownerId, parentId, name }, now(), maxDepth);
    const names = async (ownerId: string, parentId: string) =>
      (await listing.listFiles(db, { ownerId, parentId, pageSize: 1000 })).files.map((f) => f.name);
    const parentOf = async (id: string) =>
      (await db.selectFrom("files").select("parent_id").where("id", "=", id).executeTakeFirstOrThrow())
        .parent_id;
    const activeRows = async (ownerId: string) =>
      Number(
        (
          await db
            .selectFrom("files")
            .select((eb) => eb.fn.countAll().as("n"))
            .where("owner_id", "=", ownerId)
            .where("status", "=", "active")
            .executeTakeFirstOrThrow()
        ).n,
      );

    test("create: a folder may sit at depth 256 (the default), not deeper; a file may sit in that folder", async () => {
      const alice = await user("create-depth");
      expect(files.DEFAULT_MAX_FOLDER_DEPTH).toBe(256);
      const chain = await insertFolderChain(db, alice, "", 255);
      const deepest = await folder(alice, chain[254] as string, "at-256");
      const tooDeep = folder(alice, deepest.id, "at-257");
      await expect(tooDeep).rejects.toBeInstanceOf(files.FolderDepthError);
      await expect(folder(alice, deepest.id, "at-257")).rejects.toThrow(
        "folders can be nested at most 256 levels deep",
      );
      expect(await names(alice, deepest.id)).toEqual([]); // nothing written
      await addFile(alice, deepest.id, "fine.txt");
      expect(await names(alice, deepest.id)).toEqual(["fine.txt"]);
      // A configured maximum (MAX_FOLDER_DEPTH) counts the same way: a folder in the root is at depth 1.
      const one = await folder(alice, "", "one", 2);
      const two = await folder(alice, one.id, "two", 2);
      await expect(folder(alice, two.id, "three", 2)).rejects.toBeInstanceOf(files.FolderDepthError);
      await expect(folder(alice, "", "root-level", 1)).resolves.toMatchObject({ parent_id: "" });
    });

    test("move: target depth + height of the moved subtree is bounded; files go anywhere; never into its own subtree", async () => {
      const alice = await user("move-depth");
      const MAX = 5;
      const move = (id: string, to: string) => files.moveFile(db, alice, id, to, now(), MAX);
      const a = await insertFolderChain(db, alice, "", 4); // depths 1..4
      const sub = await insertFolderChain(db, alice, "", 2); // a subtree 2 levels tall
      const [a0, a1, a2, a3] = a as [string, string, string, string];
      const [s0] = sub as [string];
      expect((await move(s0, a2)).parent_id).toBe(a2); // 3 + 2 = 5
      await expect(move(s0, a3)).rejects.toBeInstanceOf(files.FolderDepthError); // 4 + 2 = 6
      expect(await parentOf(s0)).toBe(a2); // unchanged
      // The moved folder's own height counts its whole active subtree, files adding nothing.
      await addFile(alice, sub[1] as string, "leaf.txt");
      await expect(move(s0, a3)).rejects.toBeInstanceOf(files.FolderDepthError);
      // A file may move into a folder at the maximum depth.
      const at5 = await folder(alice, a3, "five", MAX);
      const f = await addFile(alice, "", "f.txt");
      expect((await move(f.id, at5.id)).parent_id).toBe(at5.id);
      // Into its own subtree is still InvalidMove, however deep.
      await expect(move(a0, a3)).rejects.toBeInstanceOf(files.InvalidMoveError);
      await expect(move(a1, at5.id)).rejects.toBeInstanceOf(files.InvalidMoveError);
      // A subtree taller than the limit (made before it) cannot move anywhere but stays usable.
      const legacy = await insertFolderChain(db, alice, "", MAX + 2);
      await expect(move(legacy[0] as string, a0)).rejects.toBeInstanceOf(files.FolderDepthError);
      expect((await move(legacy[2] as string, "")).parent_id).toBe(""); // its top 5 levels: allowed
    });

    test("restore: into the former folder or the root, refused as a whole when it would nest too deep", async () => {
      const alice = await user("restore-depth");
      const MAX = 5;
      const restore = (id: string) => trashing.restoreFile(db, alice, id, now(), MAX);
      const home = await insertFolderChain(db, alice, "", 2); // depths 1, 2
      const t = await insertFolderChain(db, alice, home[1] as string, 3); // depths 3..5
      const [t0] = t as [string];
      expect((await trashing.trashFile(db, alice, t0, now())).count).toBe(3);
      // Meanwhile the former folder moved two levels deeper: 4 + 3 levels would be 7.
      const other = await insertFolderChain(db, alice, "", 2);
      await files.moveFile(db, alice, home[0] as string, other[1] as string, now(), MAX);
      await expect(restore(t0)).rejects.toBeInstanceOf(files.FolderDepthError);
      const trash = await listing.listTrash(db, { ownerId: alice });
      expect(trash.files.map((x) => x.id)).toEqual([t0]); // still in the trash, with all of its rows
      expect(await activeRows(alice)).toBe(4);
      // Back where there is room, the restore goes through.
      await files.moveFile(db, alice, home[0] as string, "", now(), MAX);
      expect((await restore(t0)).parent_id).toBe(home[1] as string);
      expect(await activeRows(alice)).toBe(7);
      // Its former folder gone, a trash entry returns to the root, if it fits there.
      const tall = await insertFolderChain(db, alice, home[1] as string, MAX + 1);
      await trashing.trashFile(db, alice, tall[0] as string, now());
      await trashing.trashFile(db, alice, home[0] as string, now());
      await trashing.purgeTrashed(db, alice, home[0] as string, now());
      await expect(restore(tall[0] as string)).rejects.toBeInstanceOf(files.FolderDepthError);
      expect((await trashing.purgeTrashed(db, alice, tall[0] as string, now())).count).toBe(MAX + 1);
    });

    test("a subtree deeper than the old 1000-level walk is trashed, refused on restore, and purged as a whole", async () => {
      const deep = await user("deep");
      const chain = await insertFolderChain(db, deep, "", 1100);
      const middle = await addFile(deep, chain[500] as string, "middle.txt");
      const bottom = await addFile(deep, chain[1099] as string, "bottom.txt");
      const res = await trashing.trashFile(db, deep, chain[0] as string, now());
      expect(res.count).toBe(1102);
      expect(await activeRows(deep)).toBe(0);
      const everywhere = await listing.listFiles(db, { ownerId: deep, parentId: "", allFolders: true });
      expect(everywhere.files).toEqual([]);
      expect(await getDownloadTarget(db, { fileId: bottom.id, ownerId: deep })).toBeUndefined();
      // Restoring it would nest 1100 levels: refused, nothing half-restored.
      await expect(trashing.restoreFile(db, deep, chain[0] as string, now())).rejects.toBeInstanceOf(
        files.FolderDepthError,
      );
      expect(await activeRows(deep)).toBe(0);
      const at = now();
      expect((await trashing.purgeTrashed(db, deep, chain[0] as string, at)).count).toBe(1102);
      const left = await db.selectFrom("files").select("id").where("owner_id", "=", deep).execute();
      expect(left).toEqual([]);
      for (const f of [middle, bottom]) {
        const blob = await content.findBlob(db, f.blob_sha256 ?? "");
        expect([blob?.refcount, blob?.unreferenced_at]).toEqual([0, at]);
      }
    }, 120_000);

    test("orphans move to the trash: into their trashed folder's entry, else on their own; healthy rows stay", async () => {
      const u = await user("orphans");
      const bob = await user("orphans-bob");
      // (a) A chain under a folder row that is gone, as a purge that stopped part-way left it.
      const gone = crypto.randomUUID();
      const lost = await insertFolderChain(db, u, gone, 3);
      const lostFile = await addFile(u, lost[2] as string, "lost.txt");
      // (b) Rows left active under a folder in the trash, as a delete that stopped part-way left them.
      const kept = await insertFolderChain(db, u, "", 2);
      const keptFile = await addFile(u, kept[1] as string, "kept.txt");
      await trashing.trashFile(db, u, kept[0] as string, now());
      await db
        .updateTable("files")
        .set({ status: "active", deleted_at: null, trashed_with: null })
        .where("id", "in", [kept[1] as string, keptFile.id])
        .execute();
      // (c) Under another user's folder, and (d) under a file.
      const bobs = await folder(bob, "", "bobs");
      const [underBob] = await insertFolderChain(db, u, bobs.id, 1);
      const plain = await addFile(u, "", "plain.txt");
      const [underFile] = await insertFolderChain(db, u, plain.id, 1);
      // Healthy entries stay.
      const fine = await insertFolderChain(db, u, "", 2);
      await addFile(u, fine[1] as string, "fine.txt");

      const { repairs, found } = await repairOrphans(db, now(), 100);
      expect(found).toBeGreaterThanOrEqual(4);
      const mine = repairs.filter((r) => r.ownerId === u).sort((x, y) => x.id.localeCompare(y.id));
      const expected = [
        { ownerId: u, id: lost[0], formerParentId: gone, trashEntryId: lost[0], count: 4 },
        { ownerId: u, id: kept[1], formerParentId: kept[0], trashEntryId: kept[0], count: 2 },
        { ownerId: u, id: underBob, formerParentId: bobs.id, trashEntryId: underBob, count: 1 },
        { ownerId: u, id: underFile, formerParentId: plain.id, trashEntryId: underFile, count: 1 },
      ].sort((x, y) => String(x.id).localeCompare(String(y.id)));
      expect(mine).toEqual(expected as typeof mine);
      expect((await repairOrphans(db, now(), 100)).repairs.filter((r) => r.ownerId === u)).toEqual([]);

      // No longer listed nor downloadable; in the trash as entries of their own or with their folder.
      const listed = await listing.listFiles(db, { ownerId: u, parentId: "", allFolders: true });
      expect(listed.files.map((f) => f.name).sort()).toEqual(["fine.txt", "plain.txt"]);
      expect(await getDownloadTarget(db, { fileId: lostFile.id, ownerId: u })).toBeUndefined();
      const trash = (await listing.listTrash(db, { ownerId: u })).files.map((f) => f.id).sort();
      expect(trash).toEqual([lost[0], kept[0], underBob, underFile].sort() as string[]);
      expect(await names(bob, bobs.id)).toEqual([]);
      // Purging the folder the user deleted takes the repaired rows along, and frees their content.
      const at = now();
      expect((await trashing.purgeTrashed(db, u, kept[0] as string, at)).count).toBe(3);
      expect((await trashing.purgeTrashed(db, u, lost[0] as string, at)).count).toBe(4);
      for (const f of [keptFile, lostFile]) {
        const blob = await content.findBlob(db, f.blob_sha256 ?? "");
        expect([blob?.refcount, blob?.unreferenced_at]).toEqual([0, at]);
      }
    });
  });
}
