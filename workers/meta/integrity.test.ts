// The database's side of fsck on SQLite and MariaDB: reference counts recounted from files and versions,
// a corrupted count found (and nothing written without repair), corrected with repair (a count reaching 0
// starts GC's grace period), the files a blob's content belongs to, the locations the database knows
// (blobs, thumbnails, transfer jobs), usage drift reported by a dry run and fixed by a recount, and the
// RPCs' bad input.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as integrity from "./integrity.ts";
import { stuckWork } from "./integrity-stuck.ts";
import { ConflictPolicy } from "./names.ts";
import * as quota from "./quota.ts";
import { metaTestClient } from "./testing.ts";
import { createUser } from "./users.ts";

for (const target of testDatabases()) {
  describe(`integrity checks on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
    }, 60_000); // migrating MariaDB on a loaded machine
    afterAll(() => drop());

    const blob = (c: string, size: number) => ({
      sha256: c.repeat(64),
      sha1: "",
      size,
      backend: "local",
      location: `blobs/${c}-${crypto.randomUUID()}`,
    });
    const allBlobs = async () => {
      const out: integrity.CheckedBlob[] = [];
      for (let after = ""; ; ) {
        const page = await integrity.checkBlobPage(db, after, 2); // small pages: the keyset is walked
        out.push(...page);
        if (page.length < 2) return out;
        after = page.at(-1)?.sha256 ?? "";
      }
    };
    const stored = (c: string) =>
      db
        .selectFrom("blobs")
        .select(["refcount", "unreferenced_at"])
        .where("sha256", "=", c.repeat(64))
        .executeTakeFirstOrThrow()
        .then((r) => ({ refcount: Number(r.refcount), unreferencedAt: r.unreferenced_at }));

    test("reference counts: recounted from files and versions; drift found, repaired, then clean", async () => {
      const alice = (await createUser(db, "alice", "x", 0)).id;
      const bob = (await createUser(db, "bob", "x", 0)).id;
      const a = blob("a", 10);
      await content.addFileWithContent(db, { ownerId: alice, parentId: "", name: "one.txt" }, a, 1);
      await content.addFileWithContent(db, { ownerId: bob, parentId: "", name: "two.txt" }, a, 2);
      await content.addFileWithContent(db, { ownerId: alice, parentId: "", name: "v.txt" }, blob("b", 20), 3);
      // v.txt's content is replaced: "b" becomes a version of it.
      const replace = { ownerId: alice, parentId: "", name: "v.txt", onConflict: ConflictPolicy.REPLACE };
      await content.addFileWithContent(db, replace, blob("c", 30), 4);
      await content.addFileWithContent(db, { ownerId: bob, parentId: "", name: "d.txt" }, blob("d", 5), 5);

      const counts = (bs: integrity.CheckedBlob[]) => bs.map((b) => [b.sha256[0], b.refcount, b.counted]);
      expect(counts(await allBlobs())).toEqual([
        ["a", 2, 2],
        ["b", 1, 1],
        ["c", 1, 1],
        ["d", 1, 1],
      ]);

      // Corrupted behind the server's back: one too high, one too low, one dropped to 0.
      const corrupt = (c: string, refcount: number) =>
        db.updateTable("blobs").set({ refcount }).where("sha256", "=", c.repeat(64)).execute();
      await corrupt("a", 5);
      await corrupt("b", 0);
      await corrupt("d", 0);
      await db.deleteFrom("files").where("name", "=", "d.txt").execute(); // and d's only file gone
      expect(counts(await allBlobs())).toEqual([
        ["a", 5, 2],
        ["b", 0, 1],
        ["c", 1, 1],
        ["d", 0, 0],
      ]);
      // Checking wrote nothing.
      expect((await stored("a")).refcount).toBe(5);

      await corrupt("d", 3); // d: referenced by nothing, counted 3
      expect(await integrity.repairRefcount(db, "a".repeat(64), 100)).toEqual({ before: 5, after: 2 });
      expect(await integrity.repairRefcount(db, "b".repeat(64), 100)).toEqual({ before: 0, after: 1 });
      expect(await integrity.repairRefcount(db, "c".repeat(64), 100)).toBeUndefined();
      expect(await integrity.repairRefcount(db, "d".repeat(64), 100)).toEqual({ before: 3, after: 0 });
      expect(await stored("b")).toEqual({ refcount: 1, unreferencedAt: null });
      // d is garbage now: its grace period starts at the repair, and GC claims it after.
      expect(await stored("d")).toEqual({ refcount: 0, unreferencedAt: 100 });
      expect((await content.claimGarbage(db, 200, 50)).map((b) => b.sha256[0])).toEqual(["d"]);
      // A second check is clean (d is GC's now, being collected, and left out).
      expect(counts(await allBlobs())).toEqual([
        ["a", 2, 2],
        ["b", 1, 1],
        ["c", 1, 1],
      ]);
    });

    test("the files a blob's content belongs to, versions included, with their owners", async () => {
      const refs = await integrity.blobReferences(db, "a".repeat(64), 10);
      expect(refs.map((r) => [r.username, r.name, r.version]).sort()).toEqual([
        ["alice", "one.txt", false],
        ["bob", "two.txt", false],
      ]);
      const b = await integrity.blobReferences(db, "b".repeat(64), 10);
      expect(b.map((r) => [r.username, r.name, r.version])).toEqual([["alice", "v.txt", true]]);
      expect(await integrity.blobReferences(db, "a".repeat(64), 1)).toHaveLength(1);
      expect(await integrity.blobReferences(db, "e".repeat(64), 10)).toEqual([]);
    });

    test("locations: blob rows, thumbnails and transfer jobs are known; the rest are orphans", async () => {
      const a = await content.findBlob(db, "a".repeat(64));
      await db
        .insertInto("derived_blobs")
        .values({
          sha256: "a".repeat(64),
          kind: "thumb-256",
          state: "ready",
          backend: "local",
          location: "blobs/th/umb",
          size: 1,
          created_at: 1,
        })
        .execute();
      await db
        .insertInto("transfer_jobs")
        .values({
          blob_sha256: "c".repeat(64),
          state: "running",
          attempts: 1,
          last_error: null,
          target_location: "blobs/s3-target",
          published_at: null,
          cleanup_location: "blobs/local-leftover",
          cleanup_after: 10,
          created_at: 1,
          updated_at: 1,
          traceparent: null,
        })
        .execute();
      const asked = [
        a?.location ?? "",
        "blobs/th/umb",
        "blobs/s3-target",
        "blobs/local-leftover",
        "blobs/x",
        "y",
      ];
      expect(await integrity.unknownLocations(db, "local", asked)).toEqual(["blobs/x", "y"]);
      // A blob row names its location on its own backend only.
      expect(await integrity.unknownLocations(db, "s3", [a?.location ?? ""])).toEqual([a?.location ?? ""]);
      expect(await integrity.unknownLocations(db, "local", [])).toEqual([]);
    });

    test("usage drift: a dry run reports it and writes nothing; the recount fixes it", async () => {
      const id = async (username: string) =>
        (await db.selectFrom("users").select("id").where("username", "=", username).executeTakeFirstOrThrow())
          .id;
      await db.updateTable("users").set({ used_bytes: 12345 }).where("username", "=", "alice").execute();
      const dry = await quota.recountUsage(db, 1000, { dryRun: true });
      // Alice's counter corrupted; Bob's d.txt row deleted above behind the server's back (5 bytes).
      const expected = [
        [await id("alice"), 12345, 60],
        [await id("bob"), 15, 10],
      ].sort();
      expect(dry.drifts.map((d) => [d.userId, d.usedBefore, d.usedAfter]).sort()).toEqual(expected);
      const again = await quota.recountUsage(db, 1000, { dryRun: true });
      expect(again.drifts).toEqual(dry.drifts);
      expect((await quota.recountUsage(db, 1000)).drifts).toEqual(dry.drifts);
      expect((await quota.recountUsage(db, 1000, { dryRun: true })).drifts).toEqual([]);
    });

    test("stuck transfers: counted and sized in full, whatever the page holds", async () => {
      const dead = (c: string) => ({
        blob_sha256: c.repeat(64),
        state: "failed" as const,
        attempts: 5,
        last_error: "s3 unreachable",
        target_location: null,
        published_at: null,
        cleanup_location: null,
        cleanup_after: null,
        created_at: 1,
        updated_at: 1,
        traceparent: null,
      });
      await db
        .insertInto("transfer_jobs")
        .values([dead("a"), dead("d")])
        .execute();
      // Dead letters are stuck whatever their age; a page of one lists one, the totals cover both.
      const w = await stuckWork(db, 0, 1);
      expect([w.transfers.count, w.transfers.bytes, w.transfers.items.length]).toEqual([2, 15, 1]);
      await db.deleteFrom("transfer_jobs").where("state", "=", "failed").execute();
    });

    test("the RPCs: repair through CheckBlobs, and bad input", async () => {
      const meta = metaTestClient(db, () => 500);
      await db.updateTable("blobs").set({ refcount: 9 }).where("sha256", "=", "c".repeat(64)).execute();
      const dry = await meta.checkBlobs({ limit: 10 });
      expect(
        dry.blobs.filter((b) => b.refcount !== b.countedRefs).map((b) => [b.sha256[0], b.refcount]),
      ).toEqual([["c", 9n]]);
      const fixed = await meta.checkBlobs({ limit: 10, repair: true });
      expect(
        fixed.blobs.filter((b) => b.repaired).map((b) => [b.sha256[0], b.refcount, b.countedRefs]),
      ).toEqual([["c", 9n, 1n]]);
      expect((await meta.checkBlobs({ limit: 10 })).blobs.every((b) => b.refcount === b.countedRefs)).toBe(
        true,
      );
      const code = (p: Promise<unknown>) =>
        p.then(
          () => "ok",
          (e) => Code[ConnectError.from(e).code],
        );
      expect(await code(meta.checkBlobs({ afterSha256: "nope" }))).toBe("InvalidArgument");
      expect(await code(meta.listBlobReferences({ sha256: "" }))).toBe("InvalidArgument");
      expect(await code(meta.findUnknownLocations({ backend: "", locations: ["x"] }))).toBe(
        "InvalidArgument",
      );
      const many = Array.from({ length: 1001 }, (_, i) => `blobs/${i}`);
      expect(await code(meta.findUnknownLocations({ backend: "local", locations: many }))).toBe(
        "InvalidArgument",
      );
    });
  });
}
