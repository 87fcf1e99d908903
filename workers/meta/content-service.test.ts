// ContentService over an in-memory transport with the real interceptors (internal secret required).
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);
const h40 = (c: string) => c.repeat(40);

const code = codeOf;

for (const target of testDatabases()) {
  describe(`ContentService on ${target.dialect}`, () => {
    let clock = 1_000_000;
    const s = metaSuite(target, () => clock, "alice");

    const blob = (c: string, location = `loc-${c}`) => ({
      sha256: h64(c),
      sha1: h40(c),
      size: 10n,
      backend: "local",
      location,
    });
    const file = (name = "a.txt") => ({ ownerId: s.ownerId, parentId: "", name });

    test("content: add, duplicate, instant link, purge, garbage claim, forget", async () => {
      const first = await s.meta.addFileWithContent({ file: file(), blob: blob("a") });
      expect(first.duplicateOf).toBe("");
      const dup = await s.meta.addFileWithContent({ file: file("b.txt"), blob: blob("a", "elsewhere") });
      expect(dup.duplicateOf).toBe("loc-a");
      const linked = await s.meta.addFileForExistingBlob({ file: file("c.txt"), sha256: h64("a") });
      expect(linked.file?.size).toBe(10n);
      expect((await s.meta.getBlob({ sha256: h64("a") })).blob?.refcount).toBe(3);
      for (const f of [first.file, dup.file, linked.file])
        await s.meta.purgeFile({ ownerId: s.ownerId, fileId: f?.id ?? "" });
      clock += 10_000;
      const claimed = await s.meta.claimGarbage({ graceMs: 5_000n });
      expect(claimed.blobs.map((b) => b.sha256)).toEqual([h64("a")]);
      expect(await code(s.meta.addFileWithContent({ file: file(), blob: blob("a") }))).toBe(Code.Aborted);
      await s.meta.forgetBlob({ sha256: h64("a") });
      expect(await code(s.meta.getBlob({ sha256: h64("a") }))).toBe(Code.NotFound);
    });

    test("content: bad input is InvalidArgument or NotFound and writes nothing", async () => {
      const before = await s.db.selectFrom("files").select("id").execute();
      expect(
        await code(s.meta.addFileWithContent({ file: file(), blob: { ...blob("b"), sha256: "../../etc" } })),
      ).toBe(Code.InvalidArgument);
      expect(
        await code(s.meta.addFileWithContent({ file: file(), blob: { ...blob("b"), sha1: h40("G") } })),
      ).toBe(Code.InvalidArgument);
      expect(await code(s.meta.addFileWithContent({ file: file(), blob: { ...blob("b"), size: -1n } }))).toBe(
        Code.InvalidArgument,
      );
      expect(
        await code(
          s.meta.addFileWithContent({
            file: { ownerId: s.ownerId, parentId: "", name: "" },
            blob: blob("b"),
          }),
        ),
      ).toBe(Code.InvalidArgument);
      expect(await code(s.meta.addFileForExistingBlob({ file: file(), sha256: h64("9") }))).toBe(
        Code.NotFound,
      );
      expect(await code(s.meta.purgeFile({ ownerId: s.ownerId, fileId: "nope" }))).toBe(Code.NotFound);
      expect(await s.db.selectFrom("files").select("id").execute()).toHaveLength(before.length);
    });

    test("sha1 backfill: an unknown SHA-1 is recorded once, listed until then, filled in by a legacy upload", async () => {
      // Only "" (not known yet) is allowed besides 40 lower-case hex digits.
      for (const sha1 of [h40("G"), h40("A"), "a".repeat(39), "a".repeat(41), " ".repeat(40)])
        expect(await code(s.meta.addFileWithContent({ file: file("x"), blob: { ...blob("d"), sha1 } }))).toBe(
          Code.InvalidArgument,
        );
      const unknown = (c: string) => ({ ...blob(c), sha1: "" });
      await s.meta.addFileWithContent({ file: file("d1"), blob: unknown("d") });
      await s.meta.addFileWithContent({ file: file("e1"), blob: unknown("e") });
      await s.meta.addFileWithContent({ file: file("f1"), blob: unknown("f") });
      expect((await s.meta.getBlob({ sha256: h64("d") })).blob?.sha1).toBe("");
      expect(await code(s.meta.findBlobBySha1({ sha1: h40("d") }))).toBe(Code.NotFound);
      const listed = async (after = "", limit = 0) =>
        (await s.meta.listBlobsWithoutSha1({ afterSha256: after, limit })).blobs.map((b) => b.sha256);
      expect(await listed()).toEqual([h64("d"), h64("e"), h64("f")]);
      expect(await listed("", 2)).toEqual([h64("d"), h64("e")]);
      expect(await listed(h64("e"))).toEqual([h64("f")]);

      expect((await s.meta.setBlobSha1({ sha256: h64("d"), sha1: h40("d") })).recorded).toBe(true);
      // Recorded once: a second (even a different) value changes nothing.
      expect((await s.meta.setBlobSha1({ sha256: h64("d"), sha1: h40("1") })).recorded).toBe(false);
      expect((await s.meta.getBlob({ sha256: h64("d") })).blob?.sha1).toBe(h40("d"));
      expect((await s.meta.findBlobBySha1({ sha1: h40("d") })).blob?.sha256).toBe(h64("d"));
      for (const bad of [
        { sha256: h64("e"), sha1: "" },
        { sha256: h64("e"), sha1: h40("G") },
        { sha256: "e", sha1: h40("e") },
      ])
        expect(await code(s.meta.setBlobSha1(bad))).toBe(Code.InvalidArgument);
      expect(await code(s.meta.listBlobsWithoutSha1({ afterSha256: "../x" }))).toBe(Code.InvalidArgument);

      // The same content uploaded again with its SHA-1 (a legacy route) fills it in; without, keeps it.
      await s.meta.addFileWithContent({ file: file("e2"), blob: blob("e", "other") });
      expect((await s.meta.getBlob({ sha256: h64("e") })).blob?.sha1).toBe(h40("e"));
      await s.meta.addFileWithContent({ file: file("d2"), blob: unknown("d") });
      expect((await s.meta.getBlob({ sha256: h64("d") })).blob?.sha1).toBe(h40("d"));
      expect(await listed()).toEqual([h64("f")]);
    });

    test("crc32: recorded by an upload that brings it or once by SetBlobCrc32, listed in a folder tree", async () => {
      const crc = async (c: string) => (await s.meta.getBlob({ sha256: h64(c) })).blob?.crc32;
      // The largest CRC-32 (past a signed 32-bit column) comes back as it went in.
      await s.meta.addFileWithContent({ file: file("g1"), blob: { ...blob("7"), crc32: 0xffffffff } });
      expect(await crc("7")).toBe(0xffffffff);
      await s.meta.addFileWithContent({ file: file("h1"), blob: blob("8") });
      expect(await crc("8")).toBeUndefined();
      expect((await s.meta.setBlobCrc32({ sha256: h64("8"), crc32: 0x1234abcd })).recorded).toBe(true);
      // Recorded once: another value (a ZIP, a later upload) changes nothing.
      expect((await s.meta.setBlobCrc32({ sha256: h64("8"), crc32: 1 })).recorded).toBe(false);
      await s.meta.addFileWithContent({ file: file("h2"), blob: { ...blob("8", "other"), crc32: 2 } });
      expect(await crc("8")).toBe(0x1234abcd);
      // Content stored before without one gets it from an upload of the same bytes that computed it.
      await s.meta.addFileWithContent({ file: file("i1"), blob: blob("6") });
      await s.meta.addFileWithContent({ file: file("i2"), blob: { ...blob("6", "again"), crc32: 0 } });
      expect(await crc("6")).toBe(0);
      expect((await s.meta.setBlobCrc32({ sha256: h64("5"), crc32: 1 })).recorded).toBe(false);
      expect(await code(s.meta.setBlobCrc32({ sha256: "../x", crc32: 1 }))).toBe(Code.InvalidArgument);

      const folder = await s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name: "crc" });
      const parentId = folder.folder?.id ?? "";
      const into = (name: string) => ({ ownerId: s.ownerId, parentId, name });
      await s.meta.addFileWithContent({ file: into("known"), blob: blob("7") });
      await s.meta.addFileWithContent({ file: into("unknown"), blob: blob("4") });
      await s.meta.createFolder({ ownerId: s.ownerId, parentId, name: "sub" });
      const tree = await s.meta.listFolderTree({ folderId: parentId, ownerId: s.ownerId });
      expect(tree.entries.map((e) => [e.path, e.crc32])).toEqual([
        ["known", 0xffffffff],
        ["unknown", undefined],
        ["sub", undefined],
      ]);
    });
  });
}
