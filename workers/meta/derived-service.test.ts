// DerivedService on both databases: candidates after a cursor without a row, one row per content and kind
// (a second put is refused), files resolved to their rows, rows of collected content listed and forgotten.
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

const h = (c: string) => c.repeat(64);
const clock = { now: 1_000_000 };

for (const target of testDatabases()) {
  describe(`DerivedService on ${target.dialect}`, () => {
    const s = metaSuite(target, () => clock.now, "dora");
    const add = async (name: string, sha: string, at: number) => {
      clock.now = at;
      const r = await s.meta.addFileWithContent({
        file: { ownerId: s.ownerId, parentId: "", name },
        blob: { sha256: sha, sha1: "", size: 3n, backend: "local", location: `blobs/${sha.slice(0, 4)}` },
      });
      return r.file?.id ?? "";
    };
    const candidates = async (afterCreatedAt = 0n, afterSha256 = "") =>
      (await s.meta.listDerivedCandidates({ kind: "thumb-256", afterCreatedAt, afterSha256, limit: 10 }))
        .candidates;

    test("candidates, one row per content and kind, files resolved, orphans after GC", async () => {
      const a = await add("a.jpg", h("a"), 1_000_000);
      const a2 = await add("copy of a.png", h("a"), 1_000_001);
      const b = await add("b.png", h("b"), 1_000_002);
      const found = await candidates();
      expect(found.map((c) => [c.sha256, c.name])).toEqual([
        [h("a"), "a.jpg"],
        [h("b"), "b.png"],
      ]);
      // After the cursor: only what is newer.
      const first = found[0] as (typeof found)[0];
      expect((await candidates(first.createdAt, first.sha256)).map((c) => c.sha256)).toEqual([h("b")]);

      const rec = {
        sha256: h("a"),
        kind: "thumb-256",
        state: "ready",
        backend: "local",
        location: "t/a",
        size: 9n,
      };
      expect((await s.meta.putDerived({ record: rec })).recorded).toBe(true);
      expect((await s.meta.putDerived({ record: { ...rec, location: "t/a2" } })).recorded).toBe(false);
      expect((await candidates()).map((c) => c.sha256)).toEqual([h("b")]);
      // The other size is its own row.
      expect(
        (await s.meta.putDerived({ record: { ...rec, kind: "thumb-1024", location: "t/a-l" } })).recorded,
      ).toBe(true);
      const got = await s.meta.getDerived({ sha256: h("a"), kind: "thumb-256" });
      expect([got.found, got.record?.location]).toEqual([true, "t/a"]);
      expect((await s.meta.getDerived({ sha256: h("b"), kind: "thumb-256" })).found).toBe(false);

      const files = await s.meta.getFilesDerived({
        ownerId: s.ownerId,
        fileIds: [a2, "nope", b, a],
        kind: "thumb-256",
      });
      expect(files.files.map((f) => [f.fileId, f.found, f.sha256, f.state])).toEqual([
        [a2, true, h("a"), "ready"],
        ["nope", false, "", ""],
        [b, true, h("b"), ""],
        [a, true, h("a"), "ready"],
      ]);

      // Content a is collected: both its rows are orphans; forgetting needs the location they name.
      await s.meta.purgeFile({ ownerId: s.ownerId, fileId: a });
      await s.meta.purgeFile({ ownerId: s.ownerId, fileId: a2 });
      expect((await s.meta.listOrphanedDerived({ limit: 10 })).records).toEqual([]);
      clock.now += 10_000;
      const claimed = await s.meta.claimGarbage({ graceMs: 1n });
      expect(claimed.blobs.map((x) => x.sha256)).toEqual([h("a")]);
      const orphans = (await s.meta.listOrphanedDerived({ limit: 10 })).records;
      expect(orphans.map((o) => o.location).sort()).toEqual(["t/a", "t/a-l"]);
      expect(
        (await s.meta.putDerived({ record: { ...rec, sha256: h("a"), kind: "thumb-1024" } })).recorded,
      ).toBe(false);
      await s.meta.forgetDerived({ sha256: h("a"), kind: "thumb-256", location: "elsewhere" });
      expect((await s.meta.listOrphanedDerived({ limit: 10 })).records).toHaveLength(2);
      for (const o of orphans)
        await s.meta.forgetDerived({ sha256: o.sha256, kind: o.kind, location: o.location });
      expect((await s.meta.listOrphanedDerived({ limit: 10 })).records).toEqual([]);
    });

    test("bad arguments are InvalidArgument", async () => {
      for (const call of [
        () => s.meta.listDerivedCandidates({ kind: "thumb-7" }),
        () => s.meta.putDerived({}),
        () => s.meta.putDerived({ record: { sha256: h("c"), kind: "thumb-256", state: "ready" } }),
        () => s.meta.putDerived({ record: { sha256: "x", kind: "thumb-256", state: "skipped" } }),
        () => s.meta.getFilesDerived({ ownerId: "", fileIds: [], kind: "thumb-256" }),
        () =>
          s.meta.getFilesDerived({
            ownerId: s.ownerId,
            fileIds: Array.from({ length: 501 }, (_, i) => String(i)),
            kind: "thumb-256",
          }),
      ])
        expect(await code(call())).toBe(Code.InvalidArgument);
    });
  });
}
