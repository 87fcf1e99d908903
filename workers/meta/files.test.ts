import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import * as listing from "./listing.ts";
import * as trashing from "./trash.ts";
import * as store from "./users.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "b");

for (const target of testDatabases()) {
  describe(`file management on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let alice: string;
    let bob: string;
    let clock = 1_000;
    const now = () => ++clock;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      alice = (await store.createUser(db, "alice", "x", 0)).id;
      bob = (await store.createUser(db, "bob", "x", 0)).id;
    });
    afterAll(() => drop());

    const addFile = async (ownerId: string, parentId: string, name: string, size = 10, h = sha()) =>
      (
        await content.addFileWithContent(
          db,
          { ownerId, parentId, name },
          { sha256: h, sha1: h.slice(24), size, backend: "local", location: `loc/${h}/${n}` },
          now(),
        )
      ).file;
    const folder = (ownerId: string, parentId: string, name: string) =>
      files.createFolder(db, { ownerId, parentId, name }, now());
    const names = async (ownerId: string, parentId: string) =>
      (await listing.listFiles(db, { ownerId, parentId, pageSize: 1000 })).files.map((f) => f.name);
    const all = async (o: listing.ListOptions) => {
      const out: string[] = [];
      let pageToken = "";
      do {
        const page = await listing.listFiles(db, { ...o, pageToken });
        out.push(...page.files.map((f) => f.name));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return out;
    };

    test("folders: bad names and same-named active siblings are refused", async () => {
      const top = await folder(alice, "", "names");
      for (const bad of ["a/b", "nul\u0000", "x".repeat(300), "", "..", " lead"]) {
        await expect(folder(alice, top.id, bad)).rejects.toBeInstanceOf(files.InvalidNameError);
      }
      await folder(alice, top.id, "docs");
      await expect(folder(alice, top.id, "docs")).rejects.toBeInstanceOf(files.NameTakenError);
      // Names compare exactly: another case is another name.
      await folder(alice, top.id, "Docs");
      // Into someone else's or an unknown folder: not found, alike.
      await expect(folder(bob, top.id, "x")).rejects.toBeInstanceOf(files.FolderNotFoundError);
      await expect(folder(alice, crypto.randomUUID(), "x")).rejects.toBeInstanceOf(files.FolderNotFoundError);
      expect(await names(alice, top.id)).toEqual(["Docs", "docs"]);
    });

    test("uploads go only into the owner's active folders", async () => {
      const mine = await folder(alice, "", "upload-target");
      await addFile(alice, mine.id, "ok.txt");
      await expect(addFile(bob, mine.id, "sneaky.txt")).rejects.toBeInstanceOf(content.FolderNotFoundError);
      await trashing.trashFile(db, alice, mine.id, now());
      await expect(addFile(alice, mine.id, "late.txt")).rejects.toBeInstanceOf(content.FolderNotFoundError);
    });

    test("list: folders first, each sort key both ways, pages with a keyset cursor", async () => {
      const dir = await folder(alice, "", "sorting");
      await addFile(alice, dir.id, "b.txt", 30);
      await addFile(alice, dir.id, "a.txt", 20);
      await addFile(alice, dir.id, "c.txt", 10);
      await folder(alice, dir.id, "zfolder");
      await folder(alice, dir.id, "afolder");
      const o = { ownerId: alice, parentId: dir.id, pageSize: 2 };
      expect(await all({ ...o, sort: "name" })).toEqual(["afolder", "zfolder", "a.txt", "b.txt", "c.txt"]);
      expect(await all({ ...o, sort: "name", descending: true })).toEqual([
        "zfolder",
        "afolder",
        "c.txt",
        "b.txt",
        "a.txt",
      ]);
      expect((await all({ ...o, sort: "size" })).slice(2)).toEqual(["c.txt", "a.txt", "b.txt"]);
      expect((await all({ ...o, sort: "size", descending: true })).slice(2)).toEqual([
        "b.txt",
        "a.txt",
        "c.txt",
      ]);
      expect((await all({ ...o, sort: "updated_at" })).slice(2)).toEqual(["b.txt", "a.txt", "c.txt"]);
      expect((await all({ ...o, sort: "updated_at", descending: true })).slice(2)).toEqual([
        "c.txt",
        "a.txt",
        "b.txt",
      ]);
      // Only active rows, only the owner's.
      await trashing.trashFile(
        db,
        alice,
        (await listing.listFiles(db, { ...o, pageSize: 10 })).files.find((f) => f.name === "b.txt")?.id ?? "",
        now(),
      );
      expect(await all({ ...o })).not.toContain("b.txt");
      await expect(listing.listFiles(db, { ownerId: bob, parentId: dir.id })).rejects.toBeInstanceOf(
        files.FolderNotFoundError,
      );
    });

    test("list: pages stay stable while rows are inserted before and after the cursor", async () => {
      const dir = await folder(alice, "", "stable");
      for (const x of ["f10", "f20", "f30", "f40", "f50"]) await addFile(alice, dir.id, x);
      const first = await listing.listFiles(db, { ownerId: alice, parentId: dir.id, pageSize: 2 });
      expect(first.files.map((f) => f.name)).toEqual(["f10", "f20"]);
      await addFile(alice, dir.id, "f05"); // before the cursor: not seen, nothing repeats
      await addFile(alice, dir.id, "f35"); // after: seen in order
      const seen = [...first.files.map((f) => f.name)];
      let token = first.nextPageToken;
      while (token) {
        const page = await listing.listFiles(db, {
          ownerId: alice,
          parentId: dir.id,
          pageSize: 2,
          pageToken: token,
        });
        seen.push(...page.files.map((f) => f.name));
        token = page.nextPageToken;
      }
      expect(seen).toEqual(["f10", "f20", "f30", "f35", "f40", "f50"]);
    });

    test("list: page size default 100, capped at 1000; cursors only fit their own listing", async () => {
      expect(listing.pageSizeOf(0)).toBe(100);
      expect(listing.pageSizeOf(5000)).toBe(1000);
      expect(() => listing.pageSizeOf(-1)).toThrow(files.InvalidCursorError);
      const dir = await folder(alice, "", "cursors");
      for (const x of ["1", "2", "3"]) await addFile(alice, dir.id, x);
      const { nextPageToken } = await listing.listFiles(db, {
        ownerId: alice,
        parentId: dir.id,
        pageSize: 1,
      });
      expect(nextPageToken).not.toBe("");
      for (const o of [
        { parentId: dir.id, sort: "size" as const },
        { parentId: dir.id, descending: true },
        { parentId: "" },
      ]) {
        await expect(
          listing.listFiles(db, { ownerId: alice, ...o, pageToken: nextPageToken }),
        ).rejects.toBeInstanceOf(files.InvalidCursorError);
      }
      await expect(
        listing.listFiles(db, { ownerId: alice, parentId: dir.id, pageToken: "garbage!" }),
      ).rejects.toBeInstanceOf(files.InvalidCursorError);
    });

    test("list every folder: files only, newest first, by content SHA-1", async () => {
      const carol = (await store.createUser(db, "carol", "x", 0)).id;
      const dir = await folder(carol, "", "sub");
      const h = sha();
      await addFile(carol, "", "one", 1);
      await addFile(carol, dir.id, "two", 2, h);
      await addFile(carol, "", "three", 3, h);
      const o = {
        ownerId: carol,
        parentId: "",
        allFolders: true,
        sort: "updated_at" as const,
        descending: true,
      };
      expect(await all(o)).toEqual(["three", "two", "one"]);
      expect(await all({ ...o, sha1: h.slice(24) })).toEqual(["three", "two"]);
      expect(await all({ ...o, ownerId: bob, sha1: h.slice(24) })).toEqual([]);
    });

    test("rename: in place, conflicts, trash and other owners", async () => {
      const dir = await folder(alice, "", "rename");
      const a = await addFile(alice, dir.id, "a.txt");
      await addFile(alice, dir.id, "b.txt");
      const renamed = await files.renameFile(db, alice, a.id, "c.txt", now());
      expect([renamed.name, renamed.parent_id]).toEqual(["c.txt", dir.id]);
      await expect(files.renameFile(db, alice, a.id, "b.txt", now())).rejects.toBeInstanceOf(
        files.NameTakenError,
      );
      await expect(files.renameFile(db, alice, a.id, "a/b", now())).rejects.toBeInstanceOf(
        files.InvalidNameError,
      );
      await expect(files.renameFile(db, bob, a.id, "bob.txt", now())).rejects.toBeInstanceOf(
        files.FileNotFoundError,
      );
      // The same name again is a no-op, not a conflict with itself.
      expect((await files.renameFile(db, alice, a.id, "c.txt", now())).name).toBe("c.txt");
      await trashing.trashFile(db, alice, a.id, now());
      await expect(files.renameFile(db, alice, a.id, "d.txt", now())).rejects.toBeInstanceOf(
        files.TrashStateError,
      );
      expect(await names(alice, dir.id)).toEqual(["b.txt"]);
    });

    test("move: into the owner's folders only, never into its own subtree, conflicts refused", async () => {
      const top = await folder(alice, "", "move");
      const a = await folder(alice, top.id, "a");
      const b = await folder(alice, a.id, "b");
      const f = await addFile(alice, top.id, "f.txt");
      expect((await files.moveFile(db, alice, f.id, b.id, now())).parent_id).toBe(b.id);
      await expect(files.moveFile(db, alice, a.id, a.id, now())).rejects.toBeInstanceOf(
        files.InvalidMoveError,
      );
      await expect(files.moveFile(db, alice, a.id, b.id, now())).rejects.toBeInstanceOf(
        files.InvalidMoveError,
      );
      const bobs = await folder(bob, "", "bobs");
      await expect(files.moveFile(db, alice, f.id, bobs.id, now())).rejects.toBeInstanceOf(
        files.FolderNotFoundError,
      );
      await expect(files.moveFile(db, bob, f.id, bobs.id, now())).rejects.toBeInstanceOf(
        files.FileNotFoundError,
      );
      await addFile(alice, top.id, "f.txt");
      await expect(files.moveFile(db, alice, f.id, top.id, now())).rejects.toBeInstanceOf(
        files.NameTakenError,
      );
      // A folder moves with its subtree; to the root works too.
      expect((await files.moveFile(db, alice, b.id, "", now())).parent_id).toBe("");
      expect(await names(alice, b.id)).toEqual(["f.txt"]);
    });

    test("trash: a folder takes its subtree; restore brings back exactly that; the trash lists entries newest first", async () => {
      const top = await folder(alice, "", "trash");
      const sub = await folder(alice, top.id, "sub");
      const early = await addFile(alice, sub.id, "early.txt");
      const late = await addFile(alice, sub.id, "late.txt");
      await trashing.trashFile(db, alice, early.id, now()); // on its own first
      const res = await trashing.trashFile(db, alice, top.id, now());
      expect(res.count).toBe(3); // top, sub, late.txt
      expect((await trashing.trashFile(db, alice, top.id, now())).count).toBe(0); // already there: unchanged
      await expect(listing.listFiles(db, { ownerId: alice, parentId: sub.id })).rejects.toBeInstanceOf(
        files.FolderNotFoundError,
      );
      const trash = await listing.listTrash(db, { ownerId: alice, pageSize: 1 });
      expect(trash.files.map((f) => f.id)).toEqual([top.id]);
      const next = await listing.listTrash(db, {
        ownerId: alice,
        pageSize: 1,
        pageToken: trash.nextPageToken,
      });
      expect(next.files.map((f) => f.id)).toEqual([early.id]);
      expect((await listing.listTrash(db, { ownerId: bob })).files.map((f) => f.id)).not.toContain(top.id);
      // Rows trashed with a folder are restored and purged through it.
      await expect(trashing.restoreFile(db, alice, late.id, now())).rejects.toBeInstanceOf(
        files.TrashStateError,
      );
      await expect(trashing.restoreFile(db, bob, top.id, now())).rejects.toBeInstanceOf(
        files.FileNotFoundError,
      );

      const back = await trashing.restoreFile(db, alice, top.id, now());
      expect([back.status, back.parent_id, back.deleted_at]).toEqual(["active", "", null]);
      expect(await names(alice, sub.id)).toEqual(["late.txt"]);
      // early.txt went on its own and stays in the trash; its folder is back, so it returns there.
      expect((await trashing.restoreFile(db, alice, early.id, now())).parent_id).toBe(sub.id);
      expect(await names(alice, sub.id)).toEqual(["early.txt", "late.txt"]);
      await expect(trashing.restoreFile(db, alice, early.id, now())).rejects.toBeInstanceOf(
        files.TrashStateError,
      );
    });

    test("restore: to the root when the former folder is gone; a name taken there is AlreadyExists", async () => {
      const dir = await folder(alice, "", "gone");
      const f = await addFile(alice, dir.id, "orphan.txt");
      await trashing.trashFile(db, alice, f.id, now());
      await trashing.trashFile(db, alice, dir.id, now());
      expect((await trashing.restoreFile(db, alice, f.id, now())).parent_id).toBe("");
      const g = await addFile(alice, "", "twin.txt");
      await trashing.trashFile(db, alice, g.id, now());
      await addFile(alice, "", "twin.txt");
      await expect(trashing.restoreFile(db, alice, g.id, now())).rejects.toBeInstanceOf(files.NameTakenError);
    });

    test("purge: only trash entries, with their subtree; the last content reference starts the grace period", async () => {
      const dir = await folder(alice, "", "purge");
      const shared = sha();
      const inside = await addFile(alice, dir.id, "inside.txt", 5, shared);
      const kept = await addFile(alice, "", "kept.txt", 5, shared);
      const lone = await addFile(alice, dir.id, "lone.txt");
      await expect(trashing.purgeTrashed(db, alice, dir.id, now())).rejects.toBeInstanceOf(
        files.TrashStateError,
      );
      await trashing.trashFile(db, alice, dir.id, now());
      await expect(trashing.purgeTrashed(db, bob, dir.id, now())).rejects.toBeInstanceOf(
        files.FileNotFoundError,
      );
      await expect(trashing.purgeTrashed(db, alice, inside.id, now())).rejects.toBeInstanceOf(
        files.TrashStateError,
      );
      const at = now();
      expect((await trashing.purgeTrashed(db, alice, dir.id, at)).count).toBe(3);
      const ids = (await db.selectFrom("files").select("id").where("owner_id", "=", alice).execute()).map(
        (r) => r.id,
      );
      expect(ids).not.toContain(dir.id);
      expect(ids).not.toContain(inside.id);
      expect(ids).toContain(kept.id);
      expect((await content.findBlob(db, shared))?.refcount).toBe(1);
      const loneBlob = await content.findBlob(db, lone.blob_sha256 ?? "");
      expect([loneBlob?.refcount, loneBlob?.unreferenced_at]).toEqual([0, at]);
    });
  });
}
