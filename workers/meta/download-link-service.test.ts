// DownloadLinkService over an in-memory transport with the real interceptors: the keys a target is found
// by, link generations, and the codes its errors map to (the logic itself is tested in links.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import type { Db } from "../lib/db/database.ts";
import { testDatabases } from "../lib/db/testing.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { codeOf as code } from "../lib/testing.ts";
import { metaTestClient } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`DownloadLinkService on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let meta: MetaClient;
    let ownerId: string;
    let fileId: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      meta = metaTestClient(db, () => 1_000_000);
      ownerId = (await meta.createUser({ username: "gina", passwordHash: "h" })).user?.id ?? "";
      const added = await meta.addFileWithContent({
        file: { ownerId, parentId: "", name: "a" },
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
    afterAll(() => drop());

    test("found by owner and id, by owner and SHA-1, or by id alone; revoking moves to the next generation", async () => {
      const byId = await meta.getDownloadTarget({ ownerId, fileId });
      expect([byId.file?.id, byId.blob?.location, byId.linkGeneration]).toEqual([fileId, "blobs/a", 0n]);
      expect((await meta.getDownloadTarget({ ownerId, sha1: "b".repeat(40) })).file?.id).toBe(fileId);
      expect((await meta.getDownloadTarget({ fileId })).file?.id).toBe(fileId);
      expect((await meta.revokeDownloadLinks({ ownerId, fileId })).linkGeneration).toBe(1n);
      expect((await meta.getDownloadTarget({ fileId })).linkGeneration).toBe(1n);
    });

    test("bad keys are InvalidArgument, others' files NotFound", async () => {
      for (const req of [
        {},
        { ownerId, sha1: "B".repeat(40) },
        { sha1: "b".repeat(40) },
        { ownerId, fileId, sha1: "b".repeat(40) },
      ])
        expect(await code(meta.getDownloadTarget(req))).toBe(Code.InvalidArgument);
      expect(await code(meta.getDownloadTarget({ ownerId: "someone", fileId }))).toBe(Code.NotFound);
      expect(await code(meta.revokeDownloadLinks({ ownerId: "someone", fileId }))).toBe(Code.NotFound);
      expect(await code(meta.revokeDownloadLinks({ ownerId }))).toBe(Code.InvalidArgument);
    });
  });
}
