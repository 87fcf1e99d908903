// DownloadLinkService.ListFolderTree over an in-memory transport with the real interceptors, on both
// dialects: the whole active subtree with paths, content locations and empty folders, depth first; every
// page size gives the same entries once each; the trash, other owners, file ids and foreign tokens refused.
import { beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`ListFolderTree on ${target.dialect}`, () => {
    const s = metaSuite(target, () => 1_000_000, "tree-owner");
    let root = "";
    let fileId = "";
    let otherOwner = "";

    const folder = async (parentId: string, name: string) =>
      (await s.meta.createFolder({ ownerId: s.ownerId, parentId, name })).folder?.id ?? "";
    const file = async (parentId: string, name: string, n: number) =>
      (
        await s.meta.addFileWithContent({
          file: { ownerId: s.ownerId, parentId, name },
          blob: {
            sha256: n.toString(16).padStart(64, "0"),
            sha1: n.toString(16).padStart(40, "0"),
            size: BigInt(n),
            backend: n % 2 ? "s3" : "local",
            location: `blobs/${n}`,
          },
        })
      ).file?.id ?? "";

    beforeAll(async () => {
      root = await folder("", "Fotos");
      fileId = await file(root, "b.txt", 2);
      await file(root, "a.txt", 1);
      const sub = await folder(root, "Ünïcode ✓");
      await file(sub, "deep.bin", 3);
      await folder(sub, "empty");
      const gone = await folder(root, "trashed");
      await file(gone, "x", 4);
      await s.meta.trashFile({ ownerId: s.ownerId, id: gone });
      await file("", "outside", 5);
      otherOwner = (await s.meta.createUser({ username: "tree-other", passwordHash: "x" })).user?.id ?? "";
    });

    const walk = async (pageSize: number, ownerId = s.ownerId) => {
      const out: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const r = await s.meta.listFolderTree({ folderId: root, ownerId, pageSize, pageToken });
        expect(r.folder?.name).toBe("Fotos");
        expect(r.entries.length).toBeLessThanOrEqual(pageSize);
        out.push(
          ...r.entries.map((e) => `${e.kind} ${e.path} ${e.size} ${e.backend}:${e.location}`.trimEnd()),
        );
        pageToken = r.nextPageToken;
        pages++;
      } while (pageToken && pages < 100);
      return out;
    };

    test("the active subtree, depth first (files, then subfolders), with content and empty folders", async () => {
      expect(await walk(1000)).toEqual([
        "file a.txt 1 s3:blobs/1",
        "file b.txt 2 local:blobs/2",
        "folder Ünïcode ✓ 0 :",
        "file Ünïcode ✓/deep.bin 3 s3:blobs/3",
        "folder Ünïcode ✓/empty 0 :",
      ]);
      const r = await s.meta.listFolderTree({ folderId: root, ownerId: s.ownerId });
      expect(r.entries[0]?.sha256).toBe("1".padStart(64, "0"));
      expect(r.folder?.ownerId).toBe(s.ownerId);
      expect(r.linkGeneration).toBe(0n);
    });

    test("every page size lists the same entries once each; by id alone too (signed links)", async () => {
      const all = await walk(1000);
      for (const n of [1, 2, 3]) expect(await walk(n)).toEqual(all);
      expect(await walk(2, "")).toEqual(all);
    });

    test("revoking the folder's links moves its generation", async () => {
      await s.meta.revokeDownloadLinks({ ownerId: s.ownerId, fileId: root });
      expect((await s.meta.listFolderTree({ folderId: root })).linkGeneration).toBe(1n);
    });

    test("errors: unknown, another owner's, a file, a foreign token, no id", async () => {
      expect(await code(s.meta.listFolderTree({ folderId: crypto.randomUUID(), ownerId: s.ownerId }))).toBe(
        Code.NotFound,
      );
      expect(await code(s.meta.listFolderTree({ folderId: root, ownerId: otherOwner }))).toBe(Code.NotFound);
      expect(await code(s.meta.listFolderTree({ folderId: fileId, ownerId: s.ownerId }))).toBe(
        Code.FailedPrecondition,
      );
      const first = await s.meta.listFolderTree({ folderId: root, ownerId: s.ownerId, pageSize: 1 });
      const other = await folder("", "other");
      for (const pageToken of [first.nextPageToken, "not-a-token"])
        expect(
          await code(s.meta.listFolderTree({ folderId: other, ownerId: s.ownerId, pageSize: 1, pageToken })),
        ).toBe(Code.InvalidArgument);
      expect(await code(s.meta.listFolderTree({ ownerId: s.ownerId }))).toBe(Code.InvalidArgument);
    });
  });
}
