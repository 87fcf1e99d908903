// TreeService over an in-memory transport with the real interceptors: the codes its errors map to (the
// logic itself is tested in files.test.ts and tree.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import type { Db } from "../lib/db/database.ts";
import { testDatabases } from "../lib/db/testing.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { codeOf as code } from "../lib/testing.ts";
import { metaTestClient } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`TreeService on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let meta: MetaClient;
    let ownerId: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      meta = metaTestClient(db, () => 1_000_000);
      ownerId = (await meta.createUser({ username: "erin", passwordHash: "h" })).user?.id ?? "";
    });
    afterAll(() => drop());

    test("folders: listed, renamed, moved; bad input InvalidArgument, clashes AlreadyExists, others' NotFound", async () => {
      const a = (await meta.createFolder({ ownerId, parentId: "", name: "a" })).folder;
      const b = (await meta.createFolder({ ownerId, parentId: "", name: "b" })).folder;
      const listed = await meta.listFiles({ ownerId, parentId: "", sort: "name" });
      expect(listed.files.map((f) => f.name)).toEqual(["a", "b"]);
      expect(await code(meta.listFiles({ ownerId, parentId: "", sort: "color" }))).toBe(Code.InvalidArgument);
      expect(await code(meta.listFiles({ ownerId: "", parentId: "" }))).toBe(Code.InvalidArgument);
      expect(await code(meta.listFiles({ ownerId, parentId: "", pageToken: "junk" }))).toBe(
        Code.InvalidArgument,
      );
      expect(await code(meta.createFolder({ ownerId, parentId: "", name: "a" }))).toBe(Code.AlreadyExists);
      expect(await code(meta.createFolder({ ownerId, parentId: "", name: "x/y" }))).toBe(
        Code.InvalidArgument,
      );
      expect((await meta.renameFile({ ownerId, id: a?.id ?? "", name: "c" })).file?.name).toBe("c");
      expect(await code(meta.renameFile({ ownerId, id: "", name: "d" }))).toBe(Code.InvalidArgument);
      expect(await code(meta.renameFile({ ownerId: "someone", id: a?.id ?? "", name: "d" }))).toBe(
        Code.NotFound,
      );
      expect(
        (await meta.moveFile({ ownerId, id: b?.id ?? "", newParentId: a?.id ?? "" })).file?.parentId,
      ).toBe(a?.id);
      expect(await code(meta.moveFile({ ownerId, id: a?.id ?? "", newParentId: b?.id ?? "" }))).toBe(
        Code.InvalidArgument,
      );
    });

    test("trash: trashed entries refuse changes (FailedPrecondition), restore names the clash, purge counts", async () => {
      const f = (await meta.createFolder({ ownerId, parentId: "", name: "t" })).folder;
      const id = f?.id ?? "";
      expect(await code(meta.purgeTrashedFile({ ownerId, id }))).toBe(Code.FailedPrecondition);
      expect((await meta.trashFile({ ownerId, id })).count).toBe(1);
      expect(await code(meta.renameFile({ ownerId, id, name: "u" }))).toBe(Code.FailedPrecondition);
      expect((await meta.listTrash({ ownerId })).files.map((x) => x.id)).toEqual([id]);
      await meta.createFolder({ ownerId, parentId: "", name: "t" });
      const err = await meta.restoreFile({ ownerId, id }).catch((e) => e);
      expect(await code(Promise.reject(err))).toBe(Code.AlreadyExists);
      expect(String(err.message)).toContain('an active entry named "t" already exists in the root folder');
      expect((await meta.purgeTrashedFile({ ownerId, id })).count).toBe(1);
      expect(await code(meta.restoreFile({ ownerId, id }))).toBe(Code.NotFound);
      expect((await meta.repairOrphans({})).found).toBe(0);
    });
  });
}
