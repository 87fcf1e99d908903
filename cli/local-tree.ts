// The local side of folder transfers: walking a folder (symbolic links are listed, never followed) and
// the --exclude patterns, matched with Bun's Glob.
import { type Dirent, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { asLocal } from "./local-errors.ts";

/**
 * Whether a path (relative to the folder being transferred, "/"-separated) is excluded. A pattern without
 * "/" matches a name at any depth (`*.tmp`, `node_modules`); one with "/" matches the whole relative path
 * (`build/*.o`, `docs/**`). An excluded folder is skipped with everything in it.
 */
export function excluder(patterns: string[]): (relPath: string) => boolean {
  const globs = patterns.map((p) => {
    const pattern = p.replace(/^\.?\/+/, "").replace(/\/+$/, "");
    return { byName: !pattern.includes("/"), glob: new Bun.Glob(pattern) };
  });
  return (rel) => globs.some(({ byName, glob }) => glob.match(byName ? basename(rel) : rel));
}

/** A remote name as a local one: no path separators, never "." or "..". */
export const safeLocalName = (name: string) =>
  name.replace(/[/\\]/g, "_").replace(/^\.\.?$/, "_") || "download";

export interface LocalFile {
  /** Path relative to the transfer's top, "/"-separated. */
  rel: string;
  path: string;
  size: number;
}

export interface LocalTree {
  /** Folders below the top, parents before their children. */
  dirs: string[];
  files: LocalFile[];
  /** Entries left out, and why (excluded, a symbolic link, not a regular file). */
  skipped: { rel: string; why: string }[];
}

/** Everything under `top` (the folder itself is not listed); unreadable folders throw a LocalError. */
export function walkLocal(top: string, excluded: (rel: string) => boolean): LocalTree {
  const tree: LocalTree = { dirs: [], files: [], skipped: [] };
  const visit = (dir: string, prefix: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      throw asLocal("read", dir, err);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      const path = join(dir, e.name);
      if (excluded(rel)) tree.skipped.push({ rel, why: "excluded" });
      else if (e.isSymbolicLink()) tree.skipped.push({ rel, why: "a symbolic link (not followed)" });
      else if (e.isDirectory()) {
        tree.dirs.push(rel);
        visit(path, rel);
      } else if (e.isFile()) tree.files.push({ rel, path, size: statSync(path).size });
      else tree.skipped.push({ rel, why: "not a regular file" });
    }
  };
  visit(top, "");
  return tree;
}
