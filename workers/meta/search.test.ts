// SearchFiles on both databases: substring, case and accents, below a folder, categories, modification
// range, sort and paging, and the index kept in step with creates, renames, trash and purge.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { nameKey, queryGrams, storedGrams } from "./name-index.ts";
import { type SearchOptions, searchFiles } from "./search.ts";
import * as trashing from "./trash.ts";
import * as store from "./users.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "d");

test("name keys: NFKD without marks, lower-cased; every short substring begins a stored gram", () => {
  expect(nameKey("Café Ｒésumé.JPG")).toBe("cafe resume.jpg");
  expect(nameKey("ÅNGSTRÖM")).toBe("angstrom");
  const grams = storedGrams("ab");
  expect(grams).toEqual(["ab\u0001", "b\u0001\u0001"]);
  expect(queryGrams("ab")).toEqual([]);
  expect(queryGrams("abcd")).toEqual(["abc", "bcd"]);
});

for (const target of testDatabases()) {
  describe(`SearchFiles on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let clock = 1_000;
    const now = () => ++clock;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      alice = (await store.createUser(db, "alice", "x", 0)).id;
      bob = (await store.createUser(db, "bob", "x", 0)).id;
    });
    afterAll(() => drop());

    const addFile = async (ownerId: string, parentId: string, name: string, size = 3) => {
      const h = sha();
      const blob = { sha256: h, sha1: "", size, backend: "local", location: `loc/${h}` };
      return (await content.addFileWithContent(db, { ownerId, parentId, name }, blob, now())).file;
    };
    const folder = (ownerId: string, parentId: string, name: string) =>
      files.createFolder(db, { ownerId, parentId, name }, now());
    const search = async (query: string, o: Partial<SearchOptions> = {}) =>
      (await searchFiles(db, { ownerId: alice, query, pageSize: 1000, ...o })).files.map((f) => f.name);

    test("substring, case- and accent-insensitive, only the owner's active entries", async () => {
      await addFile(alice, "", "Café Menu.PDF");
      await addFile(alice, "", "cafeteria.jpg");
      await addFile(alice, "", "ÇAFÉ-noir.mp3");
      await addFile(alice, "", "unrelated.txt");
      await addFile(bob, "", "bob café.pdf");
      const gone = await addFile(alice, "", "cafe gone.txt");
      await trashing.trashFile(db, alice, gone.id, now());
      expect(await search("CAFE")).toEqual(["Café Menu.PDF", "cafeteria.jpg", "ÇAFÉ-noir.mp3"]);
      expect(await search("fé")).toEqual(["Café Menu.PDF", "cafeteria.jpg", "ÇAFÉ-noir.mp3"]);
      expect(await search("e m")).toEqual(["Café Menu.PDF"]);
      expect(await search("a")).toContain("unrelated.txt");
      expect(await search("%")).toEqual([]);
      expect(await search("zzz")).toEqual([]);
      await expect(search("  ")).rejects.toThrow(files.InvalidCursorError);
    });

    test("below a folder (any depth), by category, by modification range", async () => {
      const top = await folder(alice, "", "Projects");
      const sub = await folder(alice, top.id, "projects-2024");
      const other = await folder(alice, "", "elsewhere");
      const deep = await addFile(alice, sub.id, "plan.png");
      await addFile(alice, top.id, "plan.docx");
      await addFile(alice, other.id, "plan.zip");
      const from = clock + 1;
      const late = await addFile(alice, other.id, "plan.mkv");
      expect(await search("plan", { folderId: top.id })).toEqual(["plan.docx", "plan.png"]);
      expect(await search("plan", { folderId: sub.id })).toEqual(["plan.png"]);
      expect(await search("project")).toEqual(["Projects", "projects-2024"]);
      expect(await search("project", { category: "folder" })).toEqual(["Projects", "projects-2024"]);
      expect(await search("plan", { category: "image" })).toEqual(["plan.png"]);
      expect(await search("plan", { category: "document" })).toEqual(["plan.docx"]);
      expect(await search("plan", { category: "archive" })).toEqual(["plan.zip"]);
      expect(await search("plan", { category: "video" })).toEqual(["plan.mkv"]);
      expect(await search("plan", { category: "audio" })).toEqual([]);
      expect(await search("plan", { modifiedFrom: from })).toEqual(["plan.mkv"]);
      expect(await search("plan", { modifiedTo: late.updated_at })).toEqual([
        "plan.docx",
        "plan.png",
        "plan.zip",
      ]);
      expect(deep.name).toBe("plan.png");
      await expect(search("plan", { folderId: deep.id })).rejects.toThrow(files.FolderNotFoundError);
    });

    test("sorted and paged with a cursor: every match once, in order", async () => {
      const dir = await folder(alice, "", "pages");
      for (let i = 0; i < 25; i++)
        await addFile(alice, dir.id, `page-${String(i).padStart(2, "0")}.txt`, i % 4);
      for (const [sort, descending] of [
        ["name", false],
        ["size", true],
        ["updated_at", false],
      ] as const) {
        const seen: string[] = [];
        let pageToken = "";
        do {
          const page = await searchFiles(db, {
            ownerId: alice,
            query: "page-",
            folderId: dir.id,
            sort,
            descending,
            pageSize: 7,
            pageToken,
          });
          seen.push(...page.files.map((f) => f.name));
          pageToken = page.nextPageToken;
        } while (pageToken);
        expect(seen).toHaveLength(25);
        expect(new Set(seen).size).toBe(25);
        if (sort === "name") expect(seen).toEqual([...seen].sort());
      }
      const first = await searchFiles(db, { ownerId: alice, query: "page-", pageSize: 2 });
      await expect(
        searchFiles(db, { ownerId: alice, query: "other", pageToken: first.nextPageToken }),
      ).rejects.toThrow(files.InvalidCursorError);
    });

    test("renames, purges and rows written without a name key stay searchable as they are", async () => {
      const f = await addFile(alice, "", "before-name.txt");
      await files.renameFile(db, alice, f.id, "Après-Nom.txt", now());
      expect(await search("before-name")).toEqual([]);
      expect(await search("apres-nom")).toEqual(["Après-Nom.txt"]);
      await trashing.trashFile(db, alice, f.id, now());
      await trashing.purgeTrashed(db, alice, f.id, now());
      const left = await db
        .selectFrom("file_name_grams")
        .select("gram")
        .where("file_id", "=", f.id)
        .execute();
      expect(left).toEqual([]);
      // A row written by code that does not index names: indexed by the owner's next search.
      const raw = files.folderRow({ ownerId: alice, parentId: "", name: "Unindexed Ünïcode" }, now());
      await db.insertInto("files").values(raw).execute();
      expect(await search("unicode")).toEqual(["Unindexed Ünïcode"]);
    });
  });
}
