// Walking a local folder for an upload: excluded entries, symbolic links (never followed), order.
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { excluder, safeLocalName, walkLocal } from "./local-tree.ts";
import { tempDirs } from "./testing.ts";

const tempDir = tempDirs();

describe("excluder", () => {
  test("a pattern without / matches a name at any depth; with /, the path from the top", () => {
    const ex = excluder(["*.tmp", "node_modules", "build/**", "./docs/draft.md"]);
    expect(["a.tmp", "x/y/b.tmp", "node_modules", "x/node_modules"].map(ex)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["build/a.o", "build/x/b.o", "docs/draft.md"].map(ex)).toEqual([true, true, true]);
    expect(["a.txt", "x/build/a.o", "tmp", "x/docs/draft.md"].map(ex)).toEqual([false, false, false, false]);
    expect(excluder([])("anything")).toBe(false);
  });
});

describe("walkLocal", () => {
  test("folders before their contents; excluded, symbolic links and their targets' trees left out", () => {
    const top = tempDir();
    mkdirSync(join(top, "b/c"), { recursive: true });
    mkdirSync(join(top, "skip"));
    writeFileSync(join(top, "a.txt"), "a");
    writeFileSync(join(top, "b/c/d.txt"), "dd");
    writeFileSync(join(top, "b/e.tmp"), "e");
    writeFileSync(join(top, "skip/f.txt"), "f");
    symlinkSync(join(top, "b"), join(top, "link-to-b"));
    symlinkSync(join(top, "a.txt"), join(top, "link-to-a"));
    const tree = walkLocal(top, excluder(["*.tmp", "skip"]));
    expect(tree.dirs).toEqual(["b", "b/c"]);
    expect(tree.files.map((f) => [f.rel, f.size])).toEqual([
      ["a.txt", 1],
      ["b/c/d.txt", 2],
    ]);
    expect(tree.skipped).toEqual([
      { rel: "b/e.tmp", why: "excluded" },
      { rel: "link-to-a", why: "a symbolic link (not followed)" },
      { rel: "link-to-b", why: "a symbolic link (not followed)" },
      { rel: "skip", why: "excluded" },
    ]);
  });

  test("remote names made safe as local names", () => {
    expect(["a/b", "..", ".", "a\\b", "ok.txt"].map(safeLocalName)).toEqual([
      "a_b",
      "_",
      "_",
      "a_b",
      "ok.txt",
    ]);
  });
});
