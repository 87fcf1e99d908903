// The trash's upkeep on both databases, with a fake clock: original folders as paths, emptying one owner's
// trash, and the retention purge taking exactly the entries older than it (with what was trashed along),
// their content references dropped.
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf } from "../lib/testing.ts";
import * as content from "./content.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { metaSuite } from "./testing.ts";
import * as trashing from "./trash.ts";

const DAY = 86_400_000;
let n = 0;
const sha = () => (++n).toString(16).padStart(64, "e");

for (const target of testDatabases()) {
  describe(`trash upkeep on ${target.dialect}`, () => {
    const clock = { now: 10 * DAY };
    const s = metaSuite(target, () => clock.now);
    const addFile = async (ownerId: string, parentId: string, name: string) => {
      const h = sha();
      const blob = { sha256: h, sha1: "", size: 5, backend: "local", location: `loc/${h}` };
      return (await content.addFileWithContent(s.db, { ownerId, parentId, name }, blob, clock.now)).file;
    };
    const refcount = async (sha256: string | null) =>
      Number(
        (
          await s.db
            .selectFrom("blobs")
            .select("refcount")
            .where("sha256", "=", sha256 ?? "")
            .executeTakeFirst()
        )?.refcount ?? -1,
      );
    const user = async (name: string) =>
      (await s.meta.createUser({ username: name, passwordHash: "x" })).user?.id ?? "";

    test("ListTrash names each entry's former folder; a folder gone since answers an empty path", async () => {
      const o = await user("paths");
      const docs = await files.createFolder(s.db, { ownerId: o, parentId: "", name: "docs" }, clock.now);
      const y = await files.createFolder(s.db, { ownerId: o, parentId: docs.id, name: "2024 Q1" }, clock.now);
      const inY = await addFile(o, y.id, "a.txt");
      const inRoot = await addFile(o, "", "b.txt");
      const lost = await files.createFolder(s.db, { ownerId: o, parentId: "", name: "lost" }, clock.now);
      const inLost = await addFile(o, lost.id, "c.txt");
      for (const id of [inY.id, inRoot.id, inLost.id, lost.id])
        await trashing.trashFile(s.db, o, id, clock.now);
      const res = await s.meta.listTrash({ ownerId: o });
      expect(res.originalPaths).toEqual({
        [inY.id]: "/docs/2024 Q1",
        [inRoot.id]: "/",
        [inLost.id]: "",
        [lost.id]: "/",
      });
    });

    test("EmptyTrash purges every entry of the owner with its subtree, nobody else's, and drops references", async () => {
      const o = await user("empty");
      const other = await user("other");
      const dir = await files.createFolder(s.db, { ownerId: o, parentId: "", name: "dir" }, clock.now);
      const inside = await addFile(o, dir.id, "in.bin");
      const loose = await addFile(o, "", "loose.bin");
      const kept = await addFile(o, "", "kept.bin");
      const theirs = await addFile(other, "", "theirs.bin");
      for (const id of [dir.id, loose.id]) await trashing.trashFile(s.db, o, id, clock.now);
      await trashing.trashFile(s.db, other, theirs.id, clock.now);
      const emptied = await s.meta.emptyTrash({ ownerId: o });
      expect(emptied.count).toBe(2);
      // The entries that left the trash, as they were (the file worker reports each to WatchFiles).
      expect(emptied.files.map((f) => [f.id, f.ownerId, f.status]).sort()).toEqual(
        [dir.id, loose.id].sort().map((id) => [id, o, "trashed"]),
      );
      expect((await s.meta.listTrash({ ownerId: o })).files).toEqual([]);
      // The content whose last reference went (the "blob unreferenced" events), and only that.
      expect(emptied.unreferencedSha256s.toSorted()).toEqual(
        [inside.blob_sha256, loose.blob_sha256].toSorted() as string[],
      );
      expect(await refcount(inside.blob_sha256)).toBe(0);
      expect(await refcount(loose.blob_sha256)).toBe(0);
      expect(await refcount(kept.blob_sha256)).toBe(1);
      expect((await s.meta.listTrash({ ownerId: other })).files.map((f) => f.id)).toEqual([theirs.id]);
      expect((await s.meta.emptyTrash({ ownerId: o })).count).toBe(0);
      expect(await codeOf(s.meta.emptyTrash({ ownerId: "" }))).toBe(Code.InvalidArgument);
    });

    test("PurgeExpiredTrash takes exactly the entries deleted longer ago than the retention, in batches", async () => {
      const o = await user("expiry");
      const start = clock.now;
      const old = await addFile(o, "", "old.bin");
      const dir = await files.createFolder(s.db, { ownerId: o, parentId: "", name: "old-dir" }, clock.now);
      const oldInside = await addFile(o, dir.id, "inside.bin");
      await trashing.trashFile(s.db, o, old.id, clock.now);
      await trashing.trashFile(s.db, o, dir.id, clock.now);
      clock.now += 10 * DAY;
      const recent = await addFile(o, "", "recent.bin");
      await trashing.trashFile(s.db, o, recent.id, clock.now);
      // 30 days after the first deletions, to the millisecond: not yet (older than, not as old as).
      clock.now = start + 30 * DAY;
      expect((await s.meta.purgeExpiredTrash({ retentionMs: BigInt(30 * DAY) })).count).toBe(0);
      clock.now += 1;
      const first = await s.meta.purgeExpiredTrash({ retentionMs: BigInt(30 * DAY), limit: 1 });
      expect(first.count).toBe(1);
      expect(first.files.map((f) => f.status)).toEqual(["trashed"]);
      // The rest (earlier tests' entries of other owners were deleted at the same time as these).
      const rest = await s.meta.purgeExpiredTrash({ retentionMs: BigInt(30 * DAY) });
      expect(rest.count).toBeGreaterThanOrEqual(1);
      const unreferenced = [...first.unreferencedSha256s, ...rest.unreferencedSha256s];
      for (const f of [old, oldInside]) expect(unreferenced).toContain(f.blob_sha256 as string);
      expect(unreferenced).not.toContain(recent.blob_sha256 as string);
      expect((await s.meta.listTrash({ ownerId: o })).files.map((f) => f.id)).toEqual([recent.id]);
      for (const f of [old, oldInside]) expect(await refcount(f.blob_sha256)).toBe(0);
      expect(await refcount(recent.blob_sha256)).toBe(1);
      expect(await codeOf(s.meta.purgeExpiredTrash({ retentionMs: 0n }))).toBe(Code.InvalidArgument);
    });

    test("a purge reports the content whose last reference it dropped: once, and none still referenced", async () => {
      const o = await user("unref");
      const shared = sha();
      const kept = sha();
      const blob = (h: string) => ({ sha256: h, sha1: "", size: 5, backend: "local", location: `loc/${h}` });
      const dir = await files.createFolder(s.db, { ownerId: o, parentId: "", name: "dir" }, clock.now);
      const place = (parentId: string, name: string, h: string) =>
        content.addFileWithContent(s.db, { ownerId: o, parentId, name }, blob(h), clock.now);
      await place(dir.id, "a", shared);
      await place(dir.id, "b", shared); // a second reference to the same content
      await place(dir.id, "c", kept);
      const outside = (await place("", "d", kept)).file; // keeps `kept` referenced
      await trashing.trashFile(s.db, o, dir.id, clock.now);
      const purged = await s.meta.purgeTrashedFile({ ownerId: o, id: dir.id });
      expect([purged.count, purged.unreferencedSha256s]).toEqual([4, [shared]]);
      expect([await refcount(shared), await refcount(kept)]).toEqual([0, 1]);
      // The last reference to `kept` goes with a purge through ContentService too.
      expect((await s.meta.purgeFile({ ownerId: o, fileId: outside.id })).unreferencedSha256s).toEqual([
        kept,
      ]);
      // A purge that leaves references answers none.
      const again = sha();
      const one = (await place("", "e", again)).file;
      await place("", "f", again);
      expect((await s.meta.purgeFile({ ownerId: o, fileId: one.id })).unreferencedSha256s).toEqual([]);
    });
  });
}
