import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import * as links from "./links.ts";
import * as shares from "./shares.ts";
import * as store from "./users.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "b");

for (const target of testDatabases()) {
  describe(`download targets and link generations on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      alice = (await store.createUser(db, "alice", "x", 0)).id;
      bob = (await store.createUser(db, "bob", "x", 0)).id;
    });
    afterAll(() => drop());
    const add = async (ownerId: string, name: string, h = sha(), at = 1) =>
      (
        await content.addFileWithContent(
          db,
          { ownerId, parentId: "", name },
          { sha256: h, sha1: h.slice(0, 40), size: 77, backend: "local", location: `blobs/${h}` },
          at,
        )
      ).file;

    test("by id for its owner: the file, its content row and generation 0", async () => {
      const f = await add(alice, "a.txt");
      const t = await links.getDownloadTarget(db, { fileId: f.id, ownerId: alice });
      expect(t?.file.name).toBe("a.txt");
      expect([t?.blob.sha256, t?.blob.location, t?.blob.backend, t?.blob.size]).toEqual<unknown[]>([
        f.blob_sha256,
        `blobs/${f.blob_sha256}`,
        "local",
        77,
      ]);
      expect(t?.linkGeneration).toBe(0);
      // by id alone (signed links)
      expect((await links.getDownloadTarget(db, { fileId: f.id }))?.file.id).toBe(f.id);
    });

    test("another user's file, an unknown id, and trashed files are not found", async () => {
      const f = await add(alice, "private.txt");
      expect(await links.getDownloadTarget(db, { fileId: f.id, ownerId: bob })).toBeUndefined();
      expect(
        await links.getDownloadTarget(db, { fileId: crypto.randomUUID(), ownerId: alice }),
      ).toBeUndefined();
      const sha1 = (f.blob_sha256 as string).slice(0, 40);
      expect(await links.getDownloadTarget(db, { ownerId: bob, sha1 })).toBeUndefined();
      await db.updateTable("files").set({ status: "trashed" }).where("id", "=", f.id).execute();
      expect(await links.getDownloadTarget(db, { fileId: f.id, ownerId: alice })).toBeUndefined();
    });

    test("through a share: only while the link answers and holds the file", async () => {
      const folder = await files.createFolder(db, { ownerId: alice, parentId: "", name: "shared" }, 1);
      const sub = await files.createFolder(db, { ownerId: alice, parentId: folder.id, name: "sub" }, 1);
      const inside = (
        await content.addFileWithContent(
          db,
          { ownerId: alice, parentId: sub.id, name: "in.txt" },
          { sha256: sha(), sha1: "c".repeat(40), size: 5, backend: "local", location: "blobs/in" },
          1,
        )
      ).file;
      const outside = await add(alice, "out.txt");
      const link = async (targetId: string, o: Partial<shares.NewShare> = {}) =>
        (
          await shares.createShare(
            db,
            {
              id: crypto.randomUUID(),
              ownerId: alice,
              targetId,
              mode: "view",
              passwordHash: "",
              expiresAt: null,
              maxDownloads: 0,
              maxFileBytes: 0,
              ...o,
            },
            1,
          )
        ).id;
      const via = (fileId: string, id: string, now = 10) =>
        links.getDownloadTarget(db, { fileId, share: { id, now, maxDepth: 8 } });
      const ofFile = await link(outside.id);
      const ofFolder = await link(folder.id);
      expect((await via(outside.id, ofFile))?.file.id).toBe(outside.id);
      expect((await via(inside.id, ofFolder))?.blob.location).toBe("blobs/in");
      // The link's expiry comes with the answer (the download worker's share cache stops at it).
      expect((await via(outside.id, ofFile))?.shareExpiresAt).toBeNull();
      const soon = await link(outside.id, { expiresAt: 5_000 });
      expect((await via(outside.id, soon))?.shareExpiresAt).toBe(5_000);
      expect(await via(outside.id, soon, 5_000)).toBeUndefined();
      // Not in the share, an unknown link, a link of another owner's files, a drop link: not found.
      expect(await via(outside.id, ofFolder)).toBeUndefined();
      expect(await via(inside.id, ofFile)).toBeUndefined();
      expect(await via(outside.id, crypto.randomUUID())).toBeUndefined();
      expect(await via(inside.id, await link(folder.id, { mode: "drop" }))).toBeUndefined();
      // Expiry at the boundary.
      const expiring = await link(outside.id, { expiresAt: 20 });
      expect((await via(outside.id, expiring, 19))?.file.id).toBe(outside.id);
      expect(await via(outside.id, expiring, 20)).toBeUndefined();
      // Moved out of the share, the owner disabled, the link revoked: not found from the next call on.
      await db.updateTable("files").set({ parent_id: "" }).where("id", "=", inside.id).execute();
      expect(await via(inside.id, ofFolder)).toBeUndefined();
      await db.updateTable("users").set({ disabled_at: 5 }).where("id", "=", alice).execute();
      expect(await via(outside.id, ofFile)).toBeUndefined();
      await db.updateTable("users").set({ disabled_at: null }).where("id", "=", alice).execute();
      expect((await via(outside.id, ofFile))?.file.id).toBe(outside.id);
      await shares.deleteShare(db, alice, ofFile);
      expect(await via(outside.id, ofFile)).toBeUndefined();
      // The shared folder in the trash: nothing below it answers.
      const again = await link(folder.id);
      expect((await via(sub.id, again))?.file).toBeUndefined(); // a folder is never a download target
      await db.updateTable("files").set({ status: "trashed" }).where("id", "=", folder.id).execute();
      await db.updateTable("files").set({ parent_id: sub.id }).where("id", "=", inside.id).execute();
      expect(await via(inside.id, again)).toBeUndefined();
    });

    test("by SHA-1 for its owner: the newest of the owner's files with that content", async () => {
      const h = sha();
      await add(alice, "old.txt", h, 10);
      await content.addFileForExistingBlob(db, { ownerId: alice, parentId: "", name: "new.txt" }, h, 20);
      const t = await links.getDownloadTarget(db, { ownerId: alice, sha1: h.slice(0, 40) });
      expect(t?.file.name).toBe("new.txt");
    });

    test("revoking moves to the next generation, only for the owner; purging drops the row", async () => {
      const f = await add(alice, "r.txt");
      expect(await links.revokeDownloadLinks(db, alice, f.id, 5)).toBe(1);
      expect(await links.revokeDownloadLinks(db, alice, f.id, 6)).toBe(2);
      expect((await links.getDownloadTarget(db, { fileId: f.id }))?.linkGeneration).toBe(2);
      await expect(links.revokeDownloadLinks(db, bob, f.id, 7)).rejects.toBeInstanceOf(
        content.FileNotFoundError,
      );
      expect((await links.getDownloadTarget(db, { fileId: f.id }))?.linkGeneration).toBe(2);
      await content.purgeFile(db, alice, f.id, 8);
      expect(await db.selectFrom("download_links").selectAll().where("file_id", "=", f.id).execute()).toEqual(
        [],
      );
    });
  });
}
