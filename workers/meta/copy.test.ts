// CopyFile on both databases: files and folder trees by content reference (refcounts exact over a tree
// of 1 000 entries), names under FAIL, RENAME and REPLACE (a new version), copies into the folder's own subtree refused, the folder
// depth limit, and the trash and other owners' entries out of reach.
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { numberedName as numbered } from "../lib/names.ts";
import { codeOf } from "../lib/testing.ts";
import * as content from "./content.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { searchFiles } from "./search.ts";
import { insertFolderChain, metaSuite } from "./testing.ts";
import * as trashing from "./trash.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "f");

test("numbered names keep the extension last", () => {
  expect(numbered("photo.jpg", 2)).toBe("photo (2).jpg");
  expect(numbered("archive.tar.gz", 3)).toBe("archive.tar (3).gz");
  expect(numbered(".env", 2)).toBe(".env (2)");
  expect(numbered("README", 4)).toBe("README (4)");
});

for (const target of testDatabases()) {
  describe(`CopyFile on ${target.dialect}`, () => {
    let clock = 1_000;
    const s = metaSuite(target, () => ++clock);
    const user = async (name: string) =>
      (await s.meta.createUser({ username: name, passwordHash: "x" })).user?.id ?? "";
    const blobOf = () => {
      const h = sha();
      return { sha256: h, sha1: "", size: 7, backend: "local", location: `loc/${h}` };
    };
    const addFile = async (ownerId: string, parentId: string, name: string, blob = blobOf()) =>
      (await content.addFileWithContent(s.db, { ownerId, parentId, name }, blob, ++clock)).file;
    const folder = (ownerId: string, parentId: string, name: string) =>
      files.createFolder(s.db, { ownerId, parentId, name }, ++clock);
    /** Blobs whose refcount differs from the number of file rows and versions naming them (none, when exact). */
    const refcountDrift = async () => {
      const blobs = await s.db.selectFrom("blobs").select(["sha256", "refcount"]).execute();
      const counted = new Map<string | null, number>();
      for (const table of ["files", "file_versions"] as const) {
        const rows = await s.db
          .selectFrom(table)
          .select((eb) => ["blob_sha256", eb.fn.countAll().as("n")])
          .where("blob_sha256", "is not", null)
          .groupBy("blob_sha256")
          .execute();
        for (const r of rows) counted.set(r.blob_sha256, (counted.get(r.blob_sha256) ?? 0) + Number(r.n));
      }
      return blobs.filter((b) => Number(b.refcount) !== (counted.get(b.sha256) ?? 0));
    };

    test("a file: same content, one more reference, a new name when asked, searchable", async () => {
      const o = await user("file-copy");
      const dst = await folder(o, "", "dst");
      const src = await addFile(o, "", "Report.pdf");
      const res = await s.meta.copyFile({ ownerId: o, id: src.id, newParentId: dst.id });
      expect(res.file).toMatchObject({
        parentId: dst.id,
        name: "Report.pdf",
        blobSha256: src.blob_sha256,
        status: "active",
      });
      expect(res.file?.id).not.toBe(src.id);
      const named = await s.meta.copyFile({
        ownerId: o,
        id: src.id,
        newParentId: "",
        name: "Copy of report.pdf",
      });
      expect(named.file?.name).toBe("Copy of report.pdf");
      expect(await refcountDrift()).toEqual([]);
      const found = await searchFiles(s.db, { ownerId: o, query: "report" });
      expect(found.files.map((f) => f.name).sort()).toEqual([
        "Copy of report.pdf",
        "Report.pdf",
        "Report.pdf",
      ]);
    });

    test("conflicts: FAIL (default) refuses, RENAME takes the first free name (n)", async () => {
      const o = await user("conflicts");
      const src = await addFile(o, "", "a.txt");
      await addFile(o, "", "a (2).txt");
      const err = await s.meta.copyFile({ ownerId: o, id: src.id, newParentId: "" }).catch((e) => e);
      expect(err.code).toBe(Code.AlreadyExists);
      expect(
        await codeOf(s.meta.copyFile({ ownerId: o, id: src.id, newParentId: "", onConflict: "fail" })),
      ).toBe(Code.AlreadyExists);
      const r1 = await s.meta.copyFile({ ownerId: o, id: src.id, newParentId: "", onConflict: "rename" });
      const r2 = await s.meta.copyFile({ ownerId: o, id: src.id, newParentId: "", onConflict: "rename" });
      expect([r1.file?.name, r2.file?.name]).toEqual(["a (3).txt", "a (4).txt"]);
      expect(
        await codeOf(s.meta.copyFile({ ownerId: o, id: src.id, newParentId: "", onConflict: "x" })),
      ).toBe(Code.InvalidArgument);
      expect(await refcountDrift()).toEqual([]);
    });

    test("REPLACE: a file onto a file becomes its new version (refcounts exact); folders are not replaced", async () => {
      const o = await user("replace");
      const dst = await folder(o, "", "dst");
      const src = await addFile(o, "", "a.txt");
      const old = await addFile(o, dst.id, "a.txt");
      const res = await s.meta.copyFile({
        ownerId: o,
        id: src.id,
        newParentId: dst.id,
        onConflict: "replace",
      });
      // The target keeps its id and gains the copied content; its old content is a version.
      expect(res.file).toMatchObject({ id: old.id, name: "a.txt", blobSha256: src.blob_sha256 });
      expect(res.count).toBe(1);
      const versions = await s.db
        .selectFrom("file_versions")
        .selectAll()
        .where("file_id", "=", old.id)
        .execute();
      expect(versions.map((v) => v.blob_sha256)).toEqual([old.blob_sha256]);
      // References: every file row and every version holds one.
      const refs = async (sha256: string | null) =>
        Number(
          (
            await s.db
              .selectFrom("blobs")
              .select("refcount")
              .where("sha256", "=", sha256 ?? "")
              .executeTakeFirst()
          )?.refcount,
        );
      expect([await refs(src.blob_sha256), await refs(old.blob_sha256)]).toEqual([2, 1]);
      expect(await refcountDrift()).toEqual([]);
      // Onto itself: nothing changes.
      const self = await s.meta.copyFile({ ownerId: o, id: src.id, newParentId: "", onConflict: "replace" });
      expect(self.file?.id).toBe(src.id);
      expect(await refs(src.blob_sha256)).toBe(2);
      // A folder on either side cannot be replaced: AlreadyExists, as under FAIL.
      await folder(o, dst.id, "box");
      const box = await folder(o, "", "box");
      expect(
        await codeOf(s.meta.copyFile({ ownerId: o, id: box.id, newParentId: dst.id, onConflict: "replace" })),
      ).toBe(Code.AlreadyExists);
      const file = await addFile(o, "", "dir");
      await folder(o, dst.id, "dir");
      expect(
        await codeOf(
          s.meta.copyFile({ ownerId: o, id: file.id, newParentId: dst.id, onConflict: "replace" }),
        ),
      ).toBe(Code.AlreadyExists);
    });

    test("a tree of 1 000 entries: every active entry copied once, refcounts exact, trash left behind", async () => {
      const o = await user("tree");
      const root = await folder(o, "", "photos");
      const shared = Array.from({ length: 40 }, blobOf);
      const subs = [root.id];
      for (let i = 0; i < 9; i++)
        subs.push((await folder(o, subs[i % subs.length] as string, `sub-${i}`)).id);
      // 10 folders + 990 files (many sharing content) = 1 000 entries.
      for (let i = 0; i < 990; i++) await addFile(o, subs[i % 10] as string, `f-${i}.jpg`, shared[i % 40]);
      const gone = await addFile(o, root.id, "trashed.jpg", shared[0]);
      await trashing.trashFile(s.db, o, gone.id, ++clock);
      const dst = await folder(o, "", "backup");
      const res = await s.meta.copyFile({ ownerId: o, id: root.id, newParentId: dst.id });
      expect(res.count).toBe(1000);
      expect(await refcountDrift()).toEqual([]);
      const refs = await s.db
        .selectFrom("blobs")
        .select("refcount")
        .where("sha256", "=", shared[1]?.sha256 ?? "")
        .executeTakeFirst();
      // f-1, f-41, …, f-961: 25 files name it, and 25 copies.
      expect(Number(refs?.refcount)).toBe(50);
      const copied = await s.db
        .selectFrom("files")
        .select("name")
        .where("owner_id", "=", o)
        .where("status", "=", "active")
        .execute();
      expect(copied.length).toBe(2 * 1000 + 1);
      expect(copied.filter((r) => r.name === "trashed.jpg")).toEqual([]);
      // Copies purge like originals: the references go again.
      await trashing.trashFile(s.db, o, res.file?.id ?? "", ++clock);
      await trashing.purgeTrashed(s.db, o, res.file?.id ?? "", ++clock);
      expect(await refcountDrift()).toEqual([]);
    }, 120_000);

    test("refused: into itself or its subtree, too deep, trashed or someone else's entries", async () => {
      const o = await user("refused");
      const other = await user("refused-other");
      const top = await folder(o, "", "top");
      const child = await folder(o, top.id, "child");
      for (const into of [top.id, child.id])
        expect(await codeOf(s.meta.copyFile({ ownerId: o, id: top.id, newParentId: into }))).toBe(
          Code.InvalidArgument,
        );
      const chain = await insertFolderChain(s.db, o, "", 255);
      expect(
        await codeOf(s.meta.copyFile({ ownerId: o, id: top.id, newParentId: chain[254] as string })),
      ).toBe(Code.FailedPrecondition);
      const file = await addFile(o, "", "x.bin");
      expect(
        (await s.meta.copyFile({ ownerId: o, id: file.id, newParentId: chain[254] as string })).file?.name,
      ).toBe("x.bin");
      await trashing.trashFile(s.db, o, file.id, ++clock);
      expect(await codeOf(s.meta.copyFile({ ownerId: o, id: file.id, newParentId: "" }))).toBe(
        Code.FailedPrecondition,
      );
      expect(await codeOf(s.meta.copyFile({ ownerId: other, id: top.id, newParentId: "" }))).toBe(
        Code.NotFound,
      );
      expect(
        await codeOf(
          s.meta.copyFile({ ownerId: other, id: (await addFile(other, "", "y")).id, newParentId: top.id }),
        ),
      ).toBe(Code.NotFound);
      expect(await codeOf(s.meta.copyFile({ ownerId: o, id: child.id, newParentId: "", name: "a/b" }))).toBe(
        Code.InvalidArgument,
      );
      expect(await refcountDrift()).toEqual([]);
    });
  });
}
