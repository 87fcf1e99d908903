// The file worker's quota parts over meta on SQLite and MariaDB: GetUsage for the caller, and the recount
// pass that fixes corrupted counters and logs each fix.
import { describe, expect, test } from "bun:test";
import * as content from "../meta/content.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { metaSuite } from "../meta/testing.ts";
import { getUsage, recountUsage } from "./usage.ts";

const MiB = 1024 * 1024;

for (const target of testDatabases()) {
  describe(`usage on the file worker (${target.dialect})`, () => {
    const s = metaSuite(target, () => 1000);

    test("GetUsage answers the caller's numbers; a corrupted counter is fixed by the recount and logged", async () => {
      const who = { userId: s.ownerId, username: "alice", exp: 0 };
      const blob = { sha256: "a".repeat(64), sha1: "", size: 3 * MiB, backend: "local", location: "blobs/a" };
      const { file } = await content.addFileWithContent(
        s.db,
        { ownerId: s.ownerId, parentId: "", name: "a" },
        blob,
        1,
      );
      await content.addFileWithContent(
        s.db,
        { ownerId: s.ownerId, parentId: "", name: "b" },
        { ...blob, location: "blobs/b" },
        1,
      );
      await s.db
        .updateTable("files")
        .set({ status: "trashed", deleted_at: 2, trashed_with: file.id })
        .where("id", "=", file.id)
        .execute();
      await s.meta.setQuota({ userId: s.ownerId, quotaBytes: 10n * BigInt(MiB) });
      expect(await getUsage(s, who)).toEqual({
        usedBytes: 6n * BigInt(MiB),
        reservedBytes: 0n,
        quotaBytes: 10n * BigInt(MiB),
        files: 1n,
        trashBytes: 3n * BigInt(MiB),
        versionBytes: 0n,
      });

      await s.db.updateTable("users").set({ used_bytes: 42 }).where("id", "=", s.ownerId).execute();
      const logged: [string, Record<string, unknown> | undefined][] = [];
      const log = {
        debug() {},
        info() {},
        error() {},
        warn: (msg: string, f?: Record<string, unknown>) => logged.push([msg, f]),
      };
      expect(await recountUsage({ meta: s.meta, log })).toBe(1);
      expect(logged).toEqual([
        [
          "usage counters drifted; fixed",
          {
            userId: s.ownerId,
            usedBefore: "42",
            usedAfter: String(6 * MiB),
            reservedBefore: "0",
            reservedAfter: "0",
          },
        ],
      ]);
      expect((await getUsage(s, who)).usedBytes).toBe(6n * BigInt(MiB));
      expect(await recountUsage({ meta: s.meta, log })).toBe(0);
    });
  });
}
