// checkZipLimit on both databases: the count of a folder's tree goes past one ListFolderTree page (1000
// entries), refuses one entry past the cap with ZIP_TOO_LARGE and lets a tree of exactly the cap through.
import { beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { metaSuite } from "../meta/testing.ts";
import { checkZipLimit } from "./zip-limit.ts";

for (const target of testDatabases()) {
  describe(`the ZIP entry cap on ${target.dialect}`, () => {
    const s = metaSuite(target, () => 1_000_000, "zip-cap");
    let big = "";

    beforeAll(async () => {
      const folder = async (parentId: string, name: string) =>
        (await s.meta.createFolder({ ownerId: s.ownerId, parentId, name })).folder?.id ?? "";
      big = await folder("", "big");
      // 1001 entries: more than a page holds.
      for (let i = 0; i < 1001; i += 50)
        await Promise.all(Array.from({ length: Math.min(50, 1001 - i) }, (_, j) => folder(big, `f${i + j}`)));
    }, 120_000);

    test("one entry past the cap is refused, across pages; at the cap the first page comes back", async () => {
      const folder = { folderId: big, ownerId: s.ownerId };
      let refused: unknown;
      await checkZipLimit(s.meta, folder, 1000).catch((err) => {
        refused = err;
      });
      expect(refused).toBeInstanceOf(ConnectError);
      expect([(refused as ConnectError).code, reasonOf(refused)]).toEqual([
        Code.ResourceExhausted,
        Reason.ZIP_TOO_LARGE,
      ]);
      const first = await checkZipLimit(s.meta, folder, 1001);
      expect(first.folder?.id).toBe(big);
      expect(first.entries.length).toBe(1000);
      // A small cap reads one page of cap + 1 entries.
      await expect(checkZipLimit(s.meta, folder, 3)).rejects.toThrow("more than 3 entries");
    }, 120_000);
  });
}
