// TreeService over an in-memory transport with the real interceptors: the codes its errors map to (the
// logic itself is tested in files.test.ts and tree.test.ts).
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`TreeService on ${target.dialect}`, () => {
    const s = metaSuite(target, () => 1_000_000, "erin");

    test("folders: listed, renamed, moved; bad input InvalidArgument, clashes AlreadyExists, others' NotFound", async () => {
      const a = (await s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "a" })).folder;
      const b = (await s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "b" })).folder;
      const listed = await s.meta.listFiles({ ownerId: s.ownerId, parentId: "", sort: "name" });
      expect(listed.files.map((f) => f.name)).toEqual(["a", "b"]);
      expect(await code(s.meta.listFiles({ ownerId: s.ownerId, parentId: "", sort: "color" }))).toBe(
        Code.InvalidArgument,
      );
      expect(await code(s.meta.listFiles({ ownerId: "", parentId: "" }))).toBe(Code.InvalidArgument);
      expect(await code(s.meta.listFiles({ ownerId: s.ownerId, parentId: "", pageToken: "junk" }))).toBe(
        Code.InvalidArgument,
      );
      expect(await code(s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "a" }))).toBe(
        Code.AlreadyExists,
      );
      expect(await code(s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "x/y" }))).toBe(
        Code.InvalidArgument,
      );
      expect((await s.meta.renameFile({ ownerId: s.ownerId, id: a?.id ?? "", name: "c" })).file?.name).toBe(
        "c",
      );
      expect(await code(s.meta.renameFile({ ownerId: s.ownerId, id: "", name: "d" }))).toBe(
        Code.InvalidArgument,
      );
      expect(await code(s.meta.renameFile({ ownerId: "someone", id: a?.id ?? "", name: "d" }))).toBe(
        Code.NotFound,
      );
      expect(
        (await s.meta.moveFile({ ownerId: s.ownerId, id: b?.id ?? "", newParentId: a?.id ?? "" })).file
          ?.parentId,
      ).toBe(a?.id);
      expect(
        await code(s.meta.moveFile({ ownerId: s.ownerId, id: a?.id ?? "", newParentId: b?.id ?? "" })),
      ).toBe(Code.InvalidArgument);
    });

    test("trash: trashed entries refuse changes (FailedPrecondition), restore names the clash, purge counts", async () => {
      const f = (await s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "t" })).folder;
      const id = f?.id ?? "";
      expect(await code(s.meta.purgeTrashedFile({ ownerId: s.ownerId, id }))).toBe(Code.FailedPrecondition);
      expect((await s.meta.trashFile({ ownerId: s.ownerId, id })).count).toBe(1);
      expect(await code(s.meta.renameFile({ ownerId: s.ownerId, id, name: "u" }))).toBe(
        Code.FailedPrecondition,
      );
      expect((await s.meta.listTrash({ ownerId: s.ownerId })).files.map((x) => x.id)).toEqual([id]);
      await s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "t" });
      const err = await s.meta.restoreFile({ ownerId: s.ownerId, id }).catch((e) => e);
      expect(await code(Promise.reject(err))).toBe(Code.AlreadyExists);
      expect(String(err.message)).toContain('an active entry named "t" already exists in the root folder');
      expect((await s.meta.purgeTrashedFile({ ownerId: s.ownerId, id })).count).toBe(1);
      expect(await code(s.meta.restoreFile({ ownerId: s.ownerId, id }))).toBe(Code.NotFound);
      expect((await s.meta.repairOrphans({})).found).toBe(0);
    });
  });
}
