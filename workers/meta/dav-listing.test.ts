// ListDavEntries on both databases: a folder's entries as columns (folders first, then by name, every
// column aligned), paged with ListFiles' cursors, dead properties only when asked, trashed entries left
// out, and another owner's folder or a bad cursor refused.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { unpackDoubles, unpackStrings } from "../lib/packed-columns.ts";
import { codeOf } from "../lib/testing.ts";
import * as content from "./content.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { metaSuite } from "./testing.ts";
import * as trashing from "./trash.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "d");

// Opening a MariaDB test database and migrating it takes more than bun's 5 s on a loaded machine.
setDefaultTimeout(60_000);
for (const target of testDatabases()) {
  describe(`ListDavEntries on ${target.dialect}`, () => {
    let clock = 5_000;
    const s = metaSuite(target, () => ++clock, "lister");
    const addFile = async (parentId: string, name: string) => {
      const h = sha();
      const blob = { sha256: h, sha1: "a".repeat(40), size: 9, backend: "local", location: `loc/${h}` };
      return (await content.addFileWithContent(s.db, { ownerId: s.ownerId, parentId, name }, blob, ++clock))
        .file;
    };

    test("columns line up, folders first then by name, pages follow the cursor", async () => {
      const dir = await files.createFolder(s.db, { ownerId: s.ownerId, parentId: "", name: "dir" }, ++clock);
      const sub = await files.createFolder(
        s.db,
        { ownerId: s.ownerId, parentId: dir.id, name: "zsub" },
        ++clock,
      );
      const b = await addFile(dir.id, "b.txt");
      const a = await addFile(dir.id, "a b é.txt");
      const gone = await addFile(dir.id, "gone.txt");
      await trashing.trashFile(s.db, s.ownerId, gone.id, ++clock);
      const first = await s.meta.listDavEntries({ ownerId: s.ownerId, parentId: dir.id, pageSize: 2 });
      const c = first.entries;
      expect(unpackStrings(c?.id)).toEqual([sub.id, a.id]);
      expect(unpackStrings(c?.name)).toEqual(["zsub", "a b é.txt"]);
      expect(c?.folder).toEqual([true, false]);
      expect(unpackDoubles(c?.size ?? new Uint8Array())).toEqual([0, 9]);
      expect(unpackStrings(c?.sha256)).toEqual(["", a.blob_sha256 ?? ""]);
      expect(unpackStrings(c?.sha1)).toEqual(["", "a".repeat(40)]);
      expect(unpackDoubles(c?.updatedMs ?? new Uint8Array())).toEqual([sub.updated_at, a.updated_at]);
      expect(unpackDoubles(c?.createdMs ?? new Uint8Array())).toEqual([sub.created_at, a.created_at]);
      expect(first.nextPageToken).not.toBe("");
      const second = await s.meta.listDavEntries({
        ownerId: s.ownerId,
        parentId: dir.id,
        pageSize: 2,
        pageToken: first.nextPageToken,
      });
      expect(unpackStrings(second.entries?.id)).toEqual([b.id]);
      expect(second.nextPageToken).toBe("");
    });

    test("dead properties of the page's entries come along only when asked", async () => {
      const dir = await files.createFolder(
        s.db,
        { ownerId: s.ownerId, parentId: "", name: "props" },
        ++clock,
      );
      const f = await addFile(dir.id, "f.txt");
      await s.meta.patchDavProperties({
        ownerId: s.ownerId,
        fileId: f.id,
        set: [{ namespace: "urn:x", name: "colour", value: "red" }],
      });
      const req = { ownerId: s.ownerId, parentId: dir.id };
      const without = await s.meta.listDavEntries(req);
      expect(without.properties).toEqual([]);
      const withProps = await s.meta.listDavEntries({ ...req, withProperties: true });
      expect(withProps.properties.map((p) => [p.fileId, p.namespace, p.name, p.value])).toEqual([
        [f.id, "urn:x", "colour", "red"],
      ]);
    });

    test("another owner's folder, a trashed folder, a bad cursor and no owner are refused", async () => {
      const other = (await s.meta.createUser({ username: "someone-else", passwordHash: "x" })).user?.id ?? "";
      const dir = await files.createFolder(s.db, { ownerId: s.ownerId, parentId: "", name: "mine" }, ++clock);
      expect(await codeOf(s.meta.listDavEntries({ ownerId: other, parentId: dir.id }))).toBe(Code.NotFound);
      await trashing.trashFile(s.db, s.ownerId, dir.id, ++clock);
      expect(await codeOf(s.meta.listDavEntries({ ownerId: s.ownerId, parentId: dir.id }))).toBe(
        Code.NotFound,
      );
      const bad = { ownerId: s.ownerId, parentId: "", pageToken: "nope" };
      expect(await codeOf(s.meta.listDavEntries(bad))).toBe(Code.InvalidArgument);
      expect(await codeOf(s.meta.listDavEntries({ ownerId: "", parentId: "" }))).toBe(Code.InvalidArgument);
    });
  });
}
