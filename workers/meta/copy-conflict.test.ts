// CopyFile's conflict policy on both databases, through the meta service: REPLACE onto a file makes the
// source's content a new version of it (same id, one more reference), REPLACE with a folder on either side
// is refused (InvalidArgument, nothing written), 20 copies onto one name at once under each policy, and a
// unique-index violation at the last moment answers AlreadyExists NAME_TAKEN with nothing half-written.
import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "kysely";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { codeOf } from "../lib/testing.ts";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite, treeHelpers } from "./testing.ts";
import { DEFAULT_VERSIONS_KEEP } from "./versions.ts";

let n = 0;
const _sha = () => (++n).toString(16).padStart(64, "e");

/** Blobs whose refcount differs from the file rows and versions naming them (none, when exact). */
async function refcountDrift(db: Db) {
  const blobs = await db.selectFrom("blobs").select(["sha256", "refcount"]).execute();
  const counted = new Map<string, number>();
  for (const table of ["files", "file_versions"] as const) {
    const rows = await db
      .selectFrom(table)
      .select((eb) => ["blob_sha256", eb.fn.countAll().as("n")])
      .where("blob_sha256", "is not", null)
      .groupBy("blob_sha256")
      .execute();
    for (const r of rows)
      counted.set(r.blob_sha256 as string, (counted.get(r.blob_sha256 as string) ?? 0) + Number(r.n));
  }
  return blobs.filter((b) => Number(b.refcount) !== (counted.get(b.sha256) ?? 0));
}

for (const target of testDatabases()) {
  describe(`CopyFile conflicts on ${target.dialect}`, () => {
    let clock = 1_000;
    const s = metaSuite(target, () => ++clock);
    const { user, addFile, folder } = treeHelpers(s, () => ++clock);
    const active = (ownerId: string, parentId: string) =>
      s.db
        .selectFrom("files")
        .select(["id", "name", "blob_sha256"])
        .where("owner_id", "=", ownerId)
        .where("parent_id", "=", parentId)
        .where("status", "=", "active")
        .execute();
    const refcount = async (h: string | null) => Number((await content.findBlob(s.db, h ?? ""))?.refcount);

    test("REPLACE onto a file: same id, path and name; the source's content, the old one a version; +1 reference", async () => {
      const o = await user("replace");
      const dst = await folder(o, "", "dst");
      const there = await addFile(o, dst.id, "report.pdf");
      const src = await addFile(o, "", "report.pdf");
      const res = await s.meta.copyFile({
        ownerId: o,
        id: src.id,
        newParentId: dst.id,
        onConflict: "replace",
      });
      expect(res.replaced).toBe(true);
      expect(res.count).toBe(1);
      expect(res.file).toMatchObject({
        id: there.id,
        parentId: dst.id,
        name: "report.pdf",
        blobSha256: src.blob_sha256,
        status: "active",
      });
      const versions = (await s.meta.listVersions({ ownerId: o, fileId: there.id })).versions;
      expect(versions.map((v) => v.blobSha256)).toEqual([there.blob_sha256 as string]);
      // The source keeps its reference and the replaced file gains one; the old content is the version's.
      expect([await refcount(src.blob_sha256), await refcount(there.blob_sha256)]).toEqual([2, 1]);
      expect(await active(o, dst.id)).toHaveLength(1);
      // With no file of that name, REPLACE simply copies.
      const fresh = await s.meta.copyFile({
        ownerId: o,
        id: src.id,
        newParentId: dst.id,
        name: "new.pdf",
        onConflict: "replace",
      });
      expect([fresh.replaced, fresh.file?.name]).toEqual([false, "new.pdf"]);
      expect(await refcountDrift(s.db)).toEqual([]);
    });

    test("REPLACE with a folder on either side, or of a file by itself: InvalidArgument, nothing written", async () => {
      const o = await user("replace-folders");
      const dst = await folder(o, "", "dst");
      const dir = await folder(o, "", "photos");
      await addFile(o, dir.id, "a.jpg");
      await folder(o, dst.id, "photos");
      const file = await addFile(o, "", "notes.txt");
      await folder(o, dst.id, "notes.txt");
      const fileThere = await addFile(o, dst.id, "album");
      const album = await folder(o, "", "album");
      const before = await active(o, dst.id);
      for (const id of [dir.id, file.id, album.id]) {
        const err = await s.meta
          .copyFile({ ownerId: o, id, newParentId: dst.id, onConflict: "replace" })
          .catch((e) => ConnectError.from(e));
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code).toBe(Code.InvalidArgument);
        expect((err as ConnectError).rawMessage).toContain("rename");
      }
      const self = await s.meta
        .copyFile({ ownerId: o, id: fileThere.id, newParentId: dst.id, onConflict: "replace" })
        .catch((e) => ConnectError.from(e));
      expect([(self as ConnectError).code, (self as ConnectError).rawMessage]).toEqual([
        Code.InvalidArgument,
        expect.stringContaining("cannot replace itself"),
      ]);
      expect(await active(o, dst.id)).toEqual(before);
      expect((await s.meta.listVersions({ ownerId: o, fileId: fileThere.id })).versions).toEqual([]);
      // RENAME keeps both, folders included.
      const kept = await s.meta.copyFile({
        ownerId: o,
        id: dir.id,
        newParentId: dst.id,
        onConflict: "rename",
      });
      expect([kept.file?.name, kept.count]).toEqual(["photos (2)", 2]);
      expect(await refcountDrift(s.db)).toEqual([]);
    });

    test("20 copies onto one name at once: FAIL one wins, RENAME 20 names, REPLACE one entry, versions trimmed", async () => {
      const o = await user("twenty");
      const sources = await Promise.all(
        Array.from({ length: 20 }, async (_, i) =>
          addFile(o, (await folder(o, "", `src-${i}`)).id, "same.txt"),
        ),
      );
      const copyAll = (into: string, onConflict: string) =>
        Promise.allSettled(
          sources.map((f) => s.meta.copyFile({ ownerId: o, id: f.id, newParentId: into, onConflict })),
        );

      const failDir = await folder(o, "", "fail");
      const failed = await copyAll(failDir.id, "fail");
      expect(failed.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = failed.flatMap((r) => (r.status === "rejected" ? [ConnectError.from(r.reason)] : []));
      expect(refused.map((e) => [e.code, reasonOf(e)])).toEqual(
        Array(19).fill([Code.AlreadyExists, Reason.NAME_TAKEN]),
      );
      expect(await active(o, failDir.id)).toHaveLength(1);

      const renameDir = await folder(o, "", "rename");
      const renamed = await copyAll(renameDir.id, "rename");
      expect(renamed.every((r) => r.status === "fulfilled")).toBe(true);
      const names = (await active(o, renameDir.id)).map((r) => r.name);
      expect(new Set(names).size).toBe(20);
      expect(names).toEqual(expect.arrayContaining(["same.txt", "same (20).txt"]));

      const replaceDir = await folder(o, "", "replace");
      const replaced = await copyAll(replaceDir.id, "replace");
      expect(replaced.every((r) => r.status === "fulfilled")).toBe(true);
      const [only, ...more] = await active(o, replaceDir.id);
      expect(more).toEqual([]);
      const versions = (await s.meta.listVersions({ ownerId: o, fileId: only?.id ?? "" })).versions;
      // 19 replacements made 19 versions; the retention (VERSIONS_KEEP) kept the newest 10.
      expect(versions).toHaveLength(DEFAULT_VERSIONS_KEEP);
      const held = new Set([only?.blob_sha256, ...versions.map((v) => v.blobSha256)]);
      expect(held.size).toBe(DEFAULT_VERSIONS_KEEP + 1);
      // Every source content: its own file, one per RENAME copy, the FAIL winner's, and the REPLACE survivors'.
      expect(await refcountDrift(s.db)).toEqual([]);
    }, 60_000);

    test("a unique-index violation at the last moment: AlreadyExists NAME_TAKEN, nothing half-written", async () => {
      const o = await user("race");
      const src = await addFile(o, "", "raced.txt");
      const dst = await folder(o, "", "dst");
      // What another writer taking the name between placement and insert looks like to this transaction.
      if (target.dialect === "sqlite")
        await sql`CREATE TRIGGER raced BEFORE INSERT ON files WHEN NEW.name = 'raced.txt' BEGIN
          SELECT RAISE(ABORT, 'UNIQUE constraint failed: files.owner_id, files.parent_id, files.name'); END`.execute(
          s.db,
        );
      else
        await sql`CREATE TRIGGER raced BEFORE INSERT ON files FOR EACH ROW BEGIN
          IF NEW.name = 'raced.txt' THEN
            SIGNAL SQLSTATE '23000' SET MYSQL_ERRNO = 1062, MESSAGE_TEXT = 'Duplicate entry for files_active_name';
          END IF; END`.execute(s.db);
      try {
        const err = await s.meta
          .copyFile({ ownerId: o, id: src.id, newParentId: dst.id })
          .catch((e) => ConnectError.from(e));
        expect([(err as ConnectError).code, reasonOf(err)]).toEqual([Code.AlreadyExists, Reason.NAME_TAKEN]);
        expect(await active(o, dst.id)).toEqual([]);
        expect(await refcount(src.blob_sha256)).toBe(1);
      } finally {
        await sql`DROP TRIGGER raced`.execute(s.db);
      }
      expect(await codeOf(s.meta.copyFile({ ownerId: o, id: src.id, newParentId: dst.id }))).toBe("ok");
      expect(await refcountDrift(s.db)).toEqual([]);
    });
  });
}
