import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import { transactStats } from "./db/transact.ts";
import { createFolder } from "./files.ts";
import * as store from "./users.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "a");
const blob = (sha256: string, location = `blobs/${sha256}`): content.NewBlob => ({
  sha256,
  sha1: sha256.slice(0, 40),
  size: 1234,
  backend: "local",
  location,
});

for (const target of testDatabases()) {
  describe(`content store on ${target.dialect}`, () => {
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
    // One active entry per name in a folder (issue 16): every file of these tests gets a name of its own.
    const named = (ownerId: string, name = `a${++n}.txt`) => ({ ownerId, parentId: "", name });

    test("new content creates one blob; the same content again only adds a reference", async () => {
      const h = sha();
      const first = await content.addFileWithContent(db, named(alice), blob(h, "s3/one"), 1);
      expect(first.duplicateOf).toBeUndefined();
      const second = await content.addFileWithContent(db, named(bob, "copy.txt"), blob(h, "s3/two"), 2);
      expect(second.duplicateOf).toBe("s3/one");
      expect(second.file.owner_id).toBe(bob);
      const b = await content.findBlob(db, h);
      expect([b?.refcount, b?.location, b?.size]).toEqual([2, "s3/one", 1234]);
    });

    test("one user may keep the same content under several names", async () => {
      const h = sha();
      await content.addFileWithContent(db, named(alice, "one"), blob(h), 1);
      await content.addFileForExistingBlob(db, named(alice, "two"), h, 2);
      const files = await db.selectFrom("files").select("name").where("blob_sha256", "=", h).execute();
      expect(files.map((f) => f.name).sort()).toEqual(["one", "two"]);
      expect((await content.findBlob(db, h))?.refcount).toBe(2);
    });

    test("linking unknown content fails and writes nothing", async () => {
      const before = await db.selectFrom("files").select("id").execute();
      await expect(content.addFileForExistingBlob(db, named(alice), sha(), 1)).rejects.toBeInstanceOf(
        content.BlobNotFoundError,
      );
      expect(await db.selectFrom("files").select("id").execute()).toHaveLength(before.length);
    });

    test("purging the last reference starts the grace period; GC claims only after it", async () => {
      const h = sha();
      const { file } = await content.addFileWithContent(db, named(alice), blob(h), 1);
      await content.purgeFile(db, alice, file.id, 1000);
      expect((await content.findBlob(db, h))?.unreferenced_at).toBe(1000);
      expect((await content.claimGarbage(db, 1500, 1000)).map((b) => b.sha256)).not.toContain(h);
      const claimed = await content.claimGarbage(db, 2000, 1000);
      expect(claimed.map((b) => b.sha256)).toContain(h);
      await content.forgetBlob(db, h);
      expect(await content.findBlob(db, h)).toBeUndefined();
    });

    test("purge refuses someone else's file", async () => {
      const { file } = await content.addFileWithContent(db, named(alice), blob(sha()), 1);
      await expect(content.purgeFile(db, bob, file.id, 2)).rejects.toBeInstanceOf(content.FileNotFoundError);
      expect(
        await db.selectFrom("files").select("id").where("id", "=", file.id).executeTakeFirst(),
      ).toBeDefined();
    });

    test("race: a blob claimed by GC is never linked again", async () => {
      const h = sha();
      const { file } = await content.addFileWithContent(db, named(alice), blob(h), 1);
      await content.purgeFile(db, alice, file.id, 10);
      expect((await content.claimGarbage(db, 100, 0)).map((b) => b.sha256)).toContain(h);
      await expect(content.addFileForExistingBlob(db, named(bob), h, 101)).rejects.toBeInstanceOf(
        content.BlobNotFoundError,
      );
      await expect(content.addFileWithContent(db, named(bob), blob(h), 101)).rejects.toBeInstanceOf(
        content.BlobBusyError,
      );
      // Once forgotten, the same content can be stored anew.
      await content.forgetBlob(db, h);
      expect((await content.addFileWithContent(db, named(bob), blob(h), 102)).duplicateOf).toBeUndefined();
    });

    test("race: new bytes of content being collected take the row over; the collector forgets only its own", async () => {
      const h = sha();
      const { file } = await content.addFileWithContent(db, named(alice), blob(h, "old"), 1);
      await content.purgeFile(db, alice, file.id, 10);
      const [claimed] = (await content.claimGarbage(db, 100, 0)).filter((b) => b.sha256 === h);
      expect(claimed?.location).toBe("old");
      // An upload of the same content, stored at its own location, lands while the collector deletes "old".
      const res = await content.addFileWithContent(db, named(bob), blob(h, "new"), 101);
      expect(res.duplicateOf).toBeUndefined();
      await content.forgetBlob(db, h, "old");
      const b = await content.findBlob(db, h);
      expect([b?.state, b?.location, b?.refcount, b?.unreferenced_at]).toEqual(["ready", "new", 1, null]);
      expect((await content.claimGarbage(db, 1_000_000, 0)).map((x) => x.sha256)).not.toContain(h);
    });

    test("a claim whose collector died is handed out again after the stale period, once", async () => {
      const h = sha();
      const { file } = await content.addFileWithContent(db, named(alice), blob(h), 1);
      await content.purgeFile(db, alice, file.id, 10);
      expect((await content.claimGarbage(db, 100, 0)).map((b) => b.sha256)).toContain(h);
      expect((await content.claimGarbage(db, 150, 0, 100, 100)).map((b) => b.sha256)).not.toContain(h);
      const again = await Promise.all([
        content.claimGarbage(db, 250, 0, 100, 100),
        content.claimGarbage(db, 250, 0, 100, 100),
      ]);
      expect(again.flat().filter((b) => b.sha256 === h)).toHaveLength(1);
    });

    test("race: a blob linked again during its grace period is not claimed", async () => {
      const h = sha();
      const { file } = await content.addFileWithContent(db, named(alice), blob(h), 1);
      await content.purgeFile(db, alice, file.id, 10);
      // An instant upload links it before GC runs.
      await content.addFileForExistingBlob(db, named(bob), h, 11);
      expect((await content.claimGarbage(db, 1_000_000, 0)).map((b) => b.sha256)).not.toContain(h);
      const b = await content.findBlob(db, h);
      expect([b?.refcount, b?.state, b?.unreferenced_at]).toEqual([1, "ready", null]);
    });

    test("8 at a time, into folders and the root, new and known content: no lock conflict at all", async () => {
      const folders = await Promise.all(
        [alice, bob].map(async (ownerId) => (await createFolder(db, { ...named(ownerId, "dir") }, 1)).id),
      );
      const known = sha();
      await content.addFileWithContent(db, named(alice, "known"), blob(known), 1);
      const before = transactStats.retried;
      // Job i: one owner or two, the root or a folder (alternating per owner), one of three writes.
      const job = async (i: number, owners: string[]) => {
        const k = i % owners.length;
        const file = {
          ...named(owners[k] as string, `j${i}-${owners.length}`),
          parentId: (i >> 1) % 2 ? (folders[k] as string) : "",
        };
        if (i % 3 === 0) return content.addFileWithContent(db, file, blob(sha(), `new-${i}`), 2);
        if (i % 3 === 1) return content.addFileWithContent(db, file, blob(known, `dup-${i}`), 2);
        return content.addFileForExistingBlob(db, file, known, 2);
      };
      for (const owners of [[alice], [alice, bob]]) {
        for (let round = 0; round < 10; round++)
          await Promise.all(Array.from({ length: 8 }, (_, i) => job(round * 8 + i, owners)));
      }
      expect(transactStats.retried - before).toBe(0);
      const files = await db.selectFrom("files").select("id").where("blob_sha256", "=", known).execute();
      expect((await content.findBlob(db, known))?.refcount).toBe(files.length);
    });

    test("concurrent stores of the same new content make one blob with every reference", async () => {
      const h = sha();
      const results = await Promise.allSettled(
        [0, 1, 2, 3].map((i) => content.addFileWithContent(db, named(alice, `c${i}`), blob(h, `loc${i}`), 1)),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      expect(ok.length).toBeGreaterThan(0);
      const b = await content.findBlob(db, h);
      const files = await db.selectFrom("files").select("id").where("blob_sha256", "=", h).execute();
      expect(b?.refcount).toBe(files.length);
      expect(files.length).toBe(ok.length);
    });
  });
}
