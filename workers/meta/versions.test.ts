// Versions on both dialects: list, restore, delete, downloads of a version, exact refcounts, retention by
// count and by age (the clock is the test's), and purging a file takes its versions along.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import * as links from "./links.ts";
import { ConflictPolicy } from "./names.ts";
import * as trashing from "./trash.ts";
import * as store from "./users.ts";
import * as versions from "./versions.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "d");
const DAY = 86_400_000;

for (const target of testDatabases()) {
  describe(`versions on ${target.dialect}`, () => {
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

    const put = async (name: string, h = sha(), keep = 10) =>
      (
        await content.addFileWithContent(
          db,
          { ownerId: alice, parentId: "", name, onConflict: ConflictPolicy.REPLACE, versionsKeep: keep },
          { sha256: h, sha1: "", size: h.length + n, backend: "local", location: `loc/${h}` },
          now(),
        )
      ).file;
    const refcount = async (h: string) => (await content.findBlob(db, h))?.refcount ?? 0;

    test("list, download, restore and delete a version; refcounts stay exact", async () => {
      const [h1, h2, h3] = [sha(), sha(), sha()];
      const f = await put("v.txt", h1);
      expect((await put("v.txt", h2)).id).toBe(f.id);
      await put("v.txt", h3);
      const list = await versions.listVersions(db, alice, f.id);
      expect(list.map((v) => v.blob_sha256)).toEqual([h2, h1]);
      // A version's download names its own content (its SHA-256 is its ETag).
      const t = await links.getDownloadTarget(db, { fileId: f.id, ownerId: alice, versionId: list[1]?.id });
      expect([t?.blob.sha256, t?.file.blob_sha256, t?.file.id]).toEqual([h1, h1, f.id]);
      expect(await links.getDownloadTarget(db, { fileId: f.id, versionId: "nope" })).toBeUndefined();
      // Restore: h1 becomes current, h3 a version.
      const back = await versions.restoreVersion(db, alice, f.id, list[1]?.id ?? "", now(), 10);
      expect([back.id, back.blob_sha256, back.name]).toEqual([f.id, h1, "v.txt"]);
      expect((await versions.listVersions(db, alice, f.id)).map((v) => v.blob_sha256)).toEqual([h3, h2]);
      for (const h of [h1, h2, h3]) expect(await refcount(h)).toBe(1);
      const v3 = (await versions.listVersions(db, alice, f.id))[0];
      await versions.deleteVersion(db, alice, f.id, v3?.id ?? "", now());
      expect(await refcount(h3)).toBe(0);
      await expect(versions.deleteVersion(db, alice, f.id, v3?.id ?? "", now())).rejects.toBeInstanceOf(
        versions.VersionNotFoundError,
      );
      // Someone else sees no such file.
      const bob = (await store.createUser(db, `bob${n}`, "x", 0)).id;
      await expect(versions.listVersions(db, bob, f.id)).rejects.toBeInstanceOf(files.FileNotFoundError);
    });

    test("content shared with a version costs one reference each", async () => {
      const h = sha();
      const f = await put("same.bin", h);
      await put("same.bin", h);
      expect(await refcount(h)).toBe(2);
      expect((await versions.listVersions(db, alice, f.id)).length).toBe(1);
    });

    test("purging a file purges its versions; their content becomes garbage", async () => {
      const [h1, h2] = [sha(), sha()];
      const f = await put("gone.txt", h1);
      await put("gone.txt", h2);
      await trashing.trashFile(db, alice, f.id, now());
      await trashing.purgeTrashed(db, alice, f.id, now());
      expect([await refcount(h1), await refcount(h2)]).toEqual([0, 0]);
      const rows = await db.selectFrom("file_versions").select("id").where("file_id", "=", f.id).execute();
      expect(rows).toHaveLength(0);
      const claimed = await content.claimGarbage(db, clock + 10, 0, 1000);
      expect(claimed.map((b) => b.sha256)).toEqual(expect.arrayContaining([h1, h2]));
    });

    test("retention: by count at once, by age in the periodic pass", async () => {
      const hs = Array.from({ length: 6 }, () => sha());
      let f = await put("r.txt", hs[0] as string, 3);
      for (const h of hs.slice(1)) f = await put("r.txt", h, 3);
      const kept = await versions.listVersions(db, alice, f.id);
      expect(kept.map((v) => v.blob_sha256)).toEqual(hs.slice(2, 5).reverse());
      expect([await refcount(hs[0] ?? ""), await refcount(hs[1] ?? "")]).toEqual([0, 0]);
      // A lower VERSIONS_KEEP applies at the next pass.
      expect(await versions.pruneVersions(db, clock, 30 * DAY, 2)).toBeGreaterThanOrEqual(1);
      expect((await versions.listVersions(db, alice, f.id)).length).toBe(2);
      // Thirty days later, none are left; the file itself stays.
      clock += 31 * DAY;
      await versions.pruneVersions(db, clock, 30 * DAY, 10);
      expect(await versions.listVersions(db, alice, f.id)).toHaveLength(0);
      expect((await files.entry(db, alice, f.id)).blob_sha256).toBe(hs[5] as string);
      for (const h of hs.slice(0, 5)) expect(await refcount(h)).toBe(0);
      expect(await refcount(hs[5] ?? "")).toBe(1);
    });
  });
}
