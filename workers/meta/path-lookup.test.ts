// ResolvePath on both databases: found paths, a missing name, a file used as a folder, names with spaces,
// Unicode and case differences (exact as stored), trashed entries and other owners' trees invisible, the
// path bound; and each name's lookup is one equality on the active-name index (the database's own plan).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { sql } from "kysely";
import { codeOf } from "../lib/testing.ts";
import type { Db } from "./db/database.ts";
import { planOf } from "./db/plans.ts";
import { testDatabases } from "./db/testing.ts";
import { activeChild, MAX_PATH_NAMES } from "./path-lookup.ts";
import { metaSuite, treeHelpers } from "./testing.ts";
import * as trashing from "./trash.ts";

let n = 0;
const _sha = () => (++n).toString(16).padStart(64, "e");

// Opening a MariaDB test database and migrating it takes more than bun's 5 s on a loaded machine.
setDefaultTimeout(60_000);
for (const target of testDatabases()) {
  describe(`ResolvePath on ${target.dialect}`, () => {
    let clock = 1_000;
    const s = metaSuite(target, () => ++clock);
    const { user, addFile, folder } = treeHelpers(s, () => ++clock);
    const walk = async (ownerId: string, names: string[]) =>
      (await s.meta.resolvePath({ ownerId, names })).entries.map((e) => `${e.kind}:${e.name}`);

    test("a nested file and its folders, in order, with what PROPFIND and GET read", async () => {
      const o = await user("walker");
      const a = await folder(o, "", "Photos 2024");
      const b = await folder(o, a.id, "Été à Paris");
      const f = await addFile(o, b.id, "plage 01.jpg");
      const res = await s.meta.resolvePath({
        ownerId: o,
        names: ["Photos 2024", "Été à Paris", "plage 01.jpg"],
      });
      expect(res.entries.map((e) => e.id)).toEqual([a.id, b.id, f.id]);
      expect(res.entries[2]).toMatchObject({
        kind: "file",
        size: 7n,
        blobSha256: f.blob_sha256,
        status: "active",
      });
      expect(res.entries[2]?.updatedAt).toBeDefined();
      expect(await walk(o, [])).toEqual([]);
    });

    test("a missing name stops the walk there; a file used as a folder stops it at the file", async () => {
      const o = await user("stopper");
      const a = await folder(o, "", "a");
      await addFile(o, a.id, "doc.txt");
      expect(await walk(o, ["a", "nope", "deeper"])).toEqual(["folder:a"]);
      expect(await walk(o, ["nope"])).toEqual([]);
      expect(await walk(o, ["a", "doc.txt", "child"])).toEqual(["folder:a", "file:doc.txt"]);
      expect(await walk(o, ["a", "doc.txt"])).toEqual(["folder:a", "file:doc.txt"]);
    });

    test("names match exactly as stored: case, trailing spaces and Unicode forms are other names", async () => {
      const o = await user("exact");
      await addFile(o, "", "Readme.md");
      await addFile(o, "", "a");
      expect(await walk(o, ["readme.md"])).toEqual([]);
      expect(await walk(o, ["README.MD"])).toEqual([]);
      expect(await walk(o, ["Readme.md"])).toEqual(["file:Readme.md"]);
      // MariaDB's unique index compares with PAD SPACE ("a " is taken when "a" is): the lookup still
      // answers only the exact name.
      expect(await walk(o, ["a "])).toEqual([]);
      expect(await walk(o, ["a"])).toEqual(["file:a"]);
      await addFile(o, "", "caf\u00e9");
      expect(await walk(o, ["cafe\u0301"])).toEqual([]);
      expect(await walk(o, ["caf\u00e9"])).toEqual(["file:caf\u00e9"]);
      // An active entry and a trashed one of the same name: the active one answers.
      const again = await addFile(o, "", "twice");
      await trashing.trashFile(s.db, o, again.id, ++clock);
      const now = await addFile(o, "", "twice");
      expect((await s.meta.resolvePath({ ownerId: o, names: ["twice"] })).entries[0]?.id).toBe(now.id);
    });

    test("trashed entries and whatever is below them are invisible", async () => {
      const o = await user("trasher");
      const a = await folder(o, "", "gone");
      await addFile(o, a.id, "inside.txt");
      const f = await addFile(o, "", "binned.txt");
      await trashing.trashFile(s.db, o, a.id, ++clock);
      await trashing.trashFile(s.db, o, f.id, ++clock);
      expect(await walk(o, ["gone", "inside.txt"])).toEqual([]);
      expect(await walk(o, ["binned.txt"])).toEqual([]);
    });

    test("another owner's tree is invisible, even by its exact path", async () => {
      const o = await user("owner-one");
      const other = await user("owner-two");
      const a = await folder(o, "", "private");
      await addFile(o, a.id, "secret.txt");
      expect(await walk(other, ["private", "secret.txt"])).toEqual([]);
      expect(await walk(o, ["private", "secret.txt"])).toEqual(["folder:private", "file:secret.txt"]);
    });

    test("bad requests: no owner, a path longer than any tree may nest", async () => {
      expect(await codeOf(s.meta.resolvePath({ ownerId: "", names: ["a"] }))).toBe(Code.InvalidArgument);
      const long = Array.from({ length: MAX_PATH_NAMES + 1 }, () => "x");
      expect(await codeOf(s.meta.resolvePath({ ownerId: s.ownerId, names: long }))).toBe(
        Code.InvalidArgument,
      );
      expect(await walk(s.ownerId, [""])).toEqual([]);
    });

    test("each lookup is one equality on the active-name index, in a folder of 3 000 entries", async () => {
      const o = await user("planner");
      const big = await folder(o, "", "big");
      const rows = Array.from({ length: 3000 }, (_, i) => ({
        id: crypto.randomUUID(),
        owner_id: o,
        parent_id: big.id,
        name: `f-${i}`,
        kind: "file" as const,
        blob_sha256: null,
        size: 0,
        status: (i % 3 === 0 ? "trashed" : "active") as "trashed" | "active",
        created_at: 1,
        updated_at: 1,
        deleted_at: i % 3 === 0 ? 1 : null,
        trashed_with: null,
      }));
      for (let i = 0; i < rows.length; i += 500)
        await s.db
          .insertInto("files")
          .values(rows.slice(i, i + 500))
          .execute();
      if (target.dialect === "mysql") await sql`ANALYZE TABLE files`.execute(s.db);
      else await sql`ANALYZE`.execute(s.db);
      const seen = recorded(s.db);
      expect((await activeChild(seen.db, o, big.id, "f-1"))?.name).toBe("f-1");
      expect(seen.queries).toHaveLength(1);
      const { text, rows: plan } = await planOf(s.db, target.dialect, seen.queries[0] as never);
      if (target.dialect === "mysql") {
        const files = plan.find((r) => r.table === "files");
        expect({ sql: text, key: files?.key, type: files?.type }).toEqual({
          sql: text,
          key: "files_active_name",
          type: files?.type === "const" ? "const" : "ref",
        });
      } else {
        const details = plan.map((r) => String(r.detail));
        expect({ sql: text, details }).toEqual({
          sql: text,
          details: details.filter((d) => !d.startsWith("SCAN files")),
        });
        // Either index of (owner, parent, status, name) serves it as a full equality: one row at most.
        const search =
          /^SEARCH files USING (COVERING )?INDEX (files_active_name|files_owner_parent) \(.*name=\?\)/;
        expect(details.some((d) => search.test(d))).toBe(true);
      }
    });
  });
}

/** `db` that records every SELECT it runs (for planOf). */
function recorded(db: Db) {
  const queries: { node: unknown; queryId: unknown }[] = [];
  return {
    queries,
    db: db.withPlugin({
      transformQuery(args) {
        if (args.node.kind === "SelectQueryNode") queries.push(args);
        return args.node;
      },
      transformResult: async (args) => args.result,
    }),
  };
}
