// DownloadLinkService over an in-memory transport with the real interceptors: the keys a target is found
// by, link generations, and the codes its errors map to (the logic itself is tested in links.test.ts).
import { beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`DownloadLinkService on ${target.dialect}`, () => {
    let fileId: string;
    const s = metaSuite(target, () => 1_000_000, "gina");
    beforeAll(async () => {
      const added = await s.meta.addFileWithContent({
        file: { ownerId: s.ownerId, parentId: "", name: "a" },
        blob: {
          sha256: "a".repeat(64),
          sha1: "b".repeat(40),
          size: 3n,
          backend: "local",
          location: "blobs/a",
        },
      });
      fileId = added.file?.id ?? "";
    });

    test("found by owner and id, by owner and SHA-1, or by id alone; revoking moves to the next generation", async () => {
      const byId = await s.meta.getDownloadTarget({ ownerId: s.ownerId, fileId });
      expect([byId.file?.id, byId.blob?.location, byId.linkGeneration]).toEqual([fileId, "blobs/a", 0n]);
      expect((await s.meta.getDownloadTarget({ ownerId: s.ownerId, sha1: "b".repeat(40) })).file?.id).toBe(
        fileId,
      );
      expect((await s.meta.getDownloadTarget({ fileId })).file?.id).toBe(fileId);
      expect((await s.meta.revokeDownloadLinks({ ownerId: s.ownerId, fileId })).linkGeneration).toBe(1n);
      expect((await s.meta.getDownloadTarget({ fileId })).linkGeneration).toBe(1n);
    });

    test("bad keys are InvalidArgument, others' files NotFound", async () => {
      for (const req of [
        {},
        { ownerId: s.ownerId, sha1: "B".repeat(40) },
        { sha1: "b".repeat(40) },
        { ownerId: s.ownerId, fileId, sha1: "b".repeat(40) },
      ])
        expect(await code(s.meta.getDownloadTarget(req))).toBe(Code.InvalidArgument);
      expect(await code(s.meta.getDownloadTarget({ ownerId: "someone", fileId }))).toBe(Code.NotFound);
      expect(await code(s.meta.revokeDownloadLinks({ ownerId: "someone", fileId }))).toBe(Code.NotFound);
      expect(await code(s.meta.revokeDownloadLinks({ ownerId: s.ownerId }))).toBe(Code.InvalidArgument);
    });
  });
}
