// One active entry per name in a folder under each conflict policy, on both dialects: 20 creators of one
// name at once, and moves and restores onto a taken name.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { ConflictPolicy } from "./names.ts";
import * as trashing from "./trash.ts";
import * as store from "./users.ts";
import * as versions from "./versions.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "c");

for (const target of testDatabases()) {
  describe(`names and conflicts on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let alice: string;
    let clock = 1_000;
    const now = () => ++clock;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      alice = (await store.createUser(db, "alice", "x", 0)).id;
    });
    afterAll(() => drop());

    const upload = (parentId: string, name: string, onConflict?: ConflictPolicy, h = sha(), keep?: number) =>
      content.addFileWithContent(
        db,
        { ownerId: alice, parentId, name, onConflict, versionsKeep: keep },
        { sha256: h, sha1: "", size: 7, backend: "local", location: `loc/${h}` },
        now(),
      );
    const activeNamed = (parentId: string) =>
      db
        .selectFrom("files")
        .select(["id", "name"])
        .where("owner_id", "=", alice)
        .where("parent_id", "=", parentId)
        .where("status", "=", "active")
        .execute();
    const refcount = async (h: string) => (await content.findBlob(db, h))?.refcount;
    const settle = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);

    test("20 at once, FAIL: exactly one wins, 19 NameTakenError", async () => {
      const dir = await files.createFolder(db, { ownerId: alice, parentId: "", name: "fail" }, now());
      const rs = await settle(
        Array.from({ length: 20 }, () => upload(dir.id, "same.txt", ConflictPolicy.FAIL)),
      );
      expect(rs.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = rs.filter((r) => r.status === "rejected");
      expect(refused).toHaveLength(19);
      for (const r of refused)
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(files.NameTakenError);
      expect(await activeNamed(dir.id)).toHaveLength(1);
      // Nothing half-written: the refused uploads hold no reference.
      const blobs = await db
        .selectFrom("blobs")
        .select(["refcount"])
        .where("location", "like", "loc/%")
        .execute();
      expect(blobs.reduce((s, b) => s + Number(b.refcount), 0)).toBe(
        Number(
          (
            await db
              .selectFrom("files")
              .select((eb) => eb.fn.countAll().as("c"))
              .where("kind", "=", "file")
              .executeTakeFirstOrThrow()
          ).c,
        ),
      );
    });

    test("20 at once, RENAME: 20 distinct names", async () => {
      const dir = await files.createFolder(db, { ownerId: alice, parentId: "", name: "rename" }, now());
      const rs = await Promise.all(
        Array.from({ length: 20 }, () => upload(dir.id, "same.txt", ConflictPolicy.RENAME)),
      );
      const names = rs.map((r) => r.file.name).sort();
      expect(new Set(names).size).toBe(20);
      expect(names).toContain("same.txt");
      expect(names).toContain("same (20).txt");
      expect((await activeNamed(dir.id)).length).toBe(20);
    });

    test("20 at once, REPLACE: one entry with 19 versions, trimmed to the retention", async () => {
      const dir = await files.createFolder(db, { ownerId: alice, parentId: "", name: "replace" }, now());
      const hashes = Array.from({ length: 20 }, () => sha());
      const rs = await Promise.all(
        hashes.map((h) => upload(dir.id, "same.txt", ConflictPolicy.REPLACE, h, 100)),
      );
      expect(new Set(rs.map((r) => r.file.id)).size).toBe(1);
      const [only] = await activeNamed(dir.id);
      expect((await versions.listVersions(db, alice, only?.id ?? "")).length).toBe(19);
      // Every content is held exactly once: by the file or by one version.
      for (const h of hashes) expect(await refcount(h)).toBe(1);
      // With the default retention (10), an 11th replacement trims the oldest at once.
      await upload(dir.id, "same.txt", ConflictPolicy.REPLACE);
      const kept = await versions.listVersions(db, alice, only?.id ?? "");
      expect(kept.length).toBe(versions.DEFAULT_VERSIONS_KEEP);
      expect(hashes.filter((h) => kept.some((v) => v.blob_sha256 === h)).length).toBe(10);
      const dropped = [];
      for (const h of hashes) if ((await refcount(h)) === 0) dropped.push(h);
      expect(dropped.length).toBe(10);
    });

    test("20 folders at once: one wins under FAIL and REPLACE (folders are never replaced)", async () => {
      for (const policy of [ConflictPolicy.FAIL, ConflictPolicy.REPLACE]) {
        const name = `dir-${policy}`;
        const rs = await settle(
          Array.from({ length: 20 }, () =>
            files.createFolder(db, { ownerId: alice, parentId: "", name, onConflict: policy }, now()),
          ),
        );
        expect(rs.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      }
      const renamed = await Promise.all(
        Array.from({ length: 5 }, () =>
          files.createFolder(
            db,
            { ownerId: alice, parentId: "", name: "kept", onConflict: ConflictPolicy.RENAME },
            now(),
          ),
        ),
      );
      expect(renamed.map((f) => f.name).sort()).toEqual([
        "kept",
        "kept (2)",
        "kept (3)",
        "kept (4)",
        "kept (5)",
      ]);
    });

    test("move onto a taken name: FAIL refuses, RENAME keeps both, REPLACE makes a version", async () => {
      const a = await files.createFolder(db, { ownerId: alice, parentId: "", name: "move-a" }, now());
      const b = await files.createFolder(db, { ownerId: alice, parentId: "", name: "move-b" }, now());
      const there = (await upload(b.id, "x.txt")).file;
      const h1 = sha();
      const m1 = (await upload(a.id, "x.txt", undefined, h1)).file;
      await expect(files.moveFile(db, alice, m1.id, b.id, now())).rejects.toBeInstanceOf(
        files.NameTakenError,
      );
      const renamed = await files.moveFile(db, alice, m1.id, b.id, now(), undefined, {
        onConflict: ConflictPolicy.RENAME,
      });
      expect([renamed.id, renamed.name, renamed.parent_id]).toEqual([m1.id, "x (2).txt", b.id]);
      const h2 = sha();
      const m2 = (await upload(a.id, "x.txt", undefined, h2)).file;
      const replaced = await files.moveFile(db, alice, m2.id, b.id, now(), undefined, {
        onConflict: ConflictPolicy.REPLACE,
      });
      expect([replaced.id, replaced.blob_sha256]).toEqual([there.id, h2]);
      expect(await files.entry(db, alice, m2.id).catch((e) => e)).toBeInstanceOf(files.FileNotFoundError);
      expect((await versions.listVersions(db, alice, there.id)).map((v) => v.blob_sha256)).toEqual([
        there.blob_sha256,
      ]);
      expect([await refcount(h2), await refcount(there.blob_sha256 ?? "")]).toEqual([1, 1]);
    });

    test("restore onto a taken name: FAIL refuses, RENAME keeps both, REPLACE makes a version", async () => {
      const dir = await files.createFolder(db, { ownerId: alice, parentId: "", name: "restore" }, now());
      const old1 = (await upload(dir.id, "r.txt")).file;
      await trashing.trashFile(db, alice, old1.id, now());
      const old2 = (await upload(dir.id, "r.txt")).file;
      await trashing.trashFile(db, alice, old2.id, now());
      const current = (await upload(dir.id, "r.txt")).file;
      await expect(trashing.restoreFile(db, alice, old1.id, now())).rejects.toBeInstanceOf(
        files.NameTakenError,
      );
      const kept = await trashing.restoreFile(db, alice, old1.id, now(), undefined, {
        onConflict: ConflictPolicy.RENAME,
      });
      expect(kept.name).toBe("r (2).txt");
      const replaced = await trashing.restoreFile(db, alice, old2.id, now(), undefined, {
        onConflict: ConflictPolicy.REPLACE,
      });
      expect([replaced.id, replaced.blob_sha256]).toEqual([current.id, old2.blob_sha256]);
      expect((await versions.listVersions(db, alice, current.id)).map((v) => v.blob_sha256)).toEqual([
        current.blob_sha256,
      ]);
      // A folder is never replaced: REPLACE fails like FAIL.
      const f = await files.createFolder(db, { ownerId: alice, parentId: dir.id, name: "sub" }, now());
      await trashing.trashFile(db, alice, f.id, now());
      await files.createFolder(db, { ownerId: alice, parentId: dir.id, name: "sub" }, now());
      await expect(
        trashing.restoreFile(db, alice, f.id, now(), undefined, { onConflict: ConflictPolicy.REPLACE }),
      ).rejects.toBeInstanceOf(files.NameTakenError);
    });

    test("names are case-sensitive and NFC: é composed or not is one name, É another", async () => {
      await files.createFolder(db, { ownerId: alice, parentId: "", name: "caf\u00e9" }, now());
      await expect(
        files.createFolder(db, { ownerId: alice, parentId: "", name: "cafe\u0301" }, now()),
      ).rejects.toBeInstanceOf(files.NameTakenError);
      await files.createFolder(db, { ownerId: alice, parentId: "", name: "CAF\u00c9" }, now());
    });
  });
}
