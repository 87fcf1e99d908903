// DavPropertyService on both databases through the real interceptors: dead properties set, replaced and
// removed in one patch (all or nothing), read for a page of entries at once, refused on entries that are
// not the owner's or not active, and bounded in size and number.
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf } from "../lib/testing.ts";
import { MAX_DAV_PROPERTIES, MAX_DAV_VALUE_BYTES } from "./dav-properties.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`DavPropertyService on ${target.dialect}`, () => {
    const s = metaSuite(target, () => 1_000_000, "dav");
    const folder = async (name: string) =>
      (await s.meta.createFolder({ ownerId: s.ownerId, parentId: "", name })).folder?.id ?? "";
    const props = async (ids: string[]) =>
      (await s.meta.listDavProperties({ ownerId: s.ownerId, fileIds: ids })).properties
        .map((p) => `${p.fileId || "root"} {${p.namespace}}${p.name}=${p.value}`)
        .sort();

    test("set, replace and remove in one patch; read for several entries and the root at once", async () => {
      const a = await folder("a");
      const b = await folder("b");
      await s.meta.patchDavProperties({
        ownerId: s.ownerId,
        fileId: a,
        set: [
          { namespace: "urn:x", name: "colour", value: "red" },
          { namespace: "", name: "plain", value: '<n0:v xmlns:n0="urn:y">é €</n0:v>' },
        ],
      });
      await s.meta.patchDavProperties({
        ownerId: s.ownerId,
        fileId: "",
        set: [{ namespace: "urn:x", name: "root", value: "1" }],
      });
      await s.meta.patchDavProperties({
        ownerId: s.ownerId,
        fileId: a,
        set: [{ namespace: "urn:x", name: "colour", value: "blue" }],
        remove: [
          { namespace: "", name: "plain" },
          { namespace: "urn:x", name: "never-set" },
        ],
      });
      expect(await props([a, b, ""])).toEqual([`${a} {urn:x}colour=blue`, "root {urn:x}root=1"]);
    });

    test("all or nothing: a bad instruction leaves every property as it was", async () => {
      const c = await folder("c");
      await s.meta.patchDavProperties({
        ownerId: s.ownerId,
        fileId: c,
        set: [{ namespace: "urn:x", name: "k", value: "1" }],
      });
      const tooMany = Array.from({ length: MAX_DAV_PROPERTIES + 1 }, (_, i) => ({
        namespace: "urn:n",
        name: `p${i}`,
        value: "v",
      }));
      expect(
        await codeOf(
          s.meta.patchDavProperties({
            ownerId: s.ownerId,
            fileId: c,
            set: tooMany,
            remove: [{ namespace: "urn:x", name: "k" }],
          }),
        ),
      ).toBe(Code.ResourceExhausted);
      expect(
        await codeOf(
          s.meta.patchDavProperties({
            ownerId: s.ownerId,
            fileId: c,
            set: [{ namespace: "urn:x", name: "big", value: "x".repeat(MAX_DAV_VALUE_BYTES + 1) }],
          }),
        ),
      ).toBe(Code.InvalidArgument);
      expect(
        await codeOf(
          s.meta.patchDavProperties({
            ownerId: s.ownerId,
            fileId: c,
            set: [{ namespace: "urn:x", name: "", value: "v" }],
          }),
        ),
      ).toBe(Code.InvalidArgument);
      expect(await props([c])).toEqual([`${c} {urn:x}k=1`]);
    });

    test("SetModifiedTime: the owner's active entry takes the client's time; anything else is refused", async () => {
      const e = await folder("timed");
      await s.meta.setModifiedTime({ ownerId: s.ownerId, fileId: e, modifiedAtMs: 1_234_000n });
      const row = await s.db
        .selectFrom("files")
        .select("updated_at")
        .where("id", "=", e)
        .executeTakeFirstOrThrow();
      expect(Number(row.updated_at)).toBe(1_234_000);
      const other = (await s.meta.createUser({ username: "dav-timer", passwordHash: "x" })).user?.id ?? "";
      expect(await codeOf(s.meta.setModifiedTime({ ownerId: other, fileId: e, modifiedAtMs: 1n }))).toBe(
        Code.NotFound,
      );
      expect(await codeOf(s.meta.setModifiedTime({ ownerId: s.ownerId, fileId: e, modifiedAtMs: -1n }))).toBe(
        Code.InvalidArgument,
      );
      expect(
        await codeOf(
          s.meta.setModifiedTime({
            ownerId: s.ownerId,
            fileId: e,
            modifiedAtMs: 1_000_000n + 2n * 86_400_000n,
          }),
        ),
      ).toBe(Code.InvalidArgument);
    });

    test("another user's entry, a trashed entry and an unknown id are not found; listing them yields nothing", async () => {
      const d = await folder("d");
      await s.meta.patchDavProperties({
        ownerId: s.ownerId,
        fileId: d,
        set: [{ namespace: "urn:x", name: "k", value: "1" }],
      });
      const other = (await s.meta.createUser({ username: "dav-other", passwordHash: "x" })).user?.id ?? "";
      expect(
        await codeOf(
          s.meta.patchDavProperties({
            ownerId: other,
            fileId: d,
            set: [{ namespace: "urn:x", name: "k", value: "2" }],
          }),
        ),
      ).toBe(Code.NotFound);
      expect((await s.meta.listDavProperties({ ownerId: other, fileIds: [d] })).properties).toEqual([]);
      await s.meta.trashFile({ ownerId: s.ownerId, id: d });
      expect(
        await codeOf(
          s.meta.patchDavProperties({
            ownerId: s.ownerId,
            fileId: d,
            set: [{ namespace: "urn:x", name: "k", value: "3" }],
          }),
        ),
      ).toBe(Code.NotFound);
      expect(
        await codeOf(
          s.meta.patchDavProperties({
            ownerId: s.ownerId,
            fileId: crypto.randomUUID(),
            remove: [{ namespace: "", name: "k" }],
          }),
        ),
      ).toBe(Code.NotFound);
      expect(
        await codeOf(s.meta.listDavProperties({ ownerId: s.ownerId, fileIds: Array(1001).fill(d) })),
      ).toBe(Code.InvalidArgument);
    });
  });
}
