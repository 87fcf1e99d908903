// The house rule on size, checked on every hand-written .ts file: no file over MAX_FILE_LINES lines and no
// function (declaration, method, accessor, constructor, function expression or arrow) over MAX_FUNCTION_LINES
// lines, so that a file keeps one concern and a function can be read in one sitting. Generated code
// (proto/gen, gateway/web/assets.ts), tests and node_modules are left out.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const ROOT = join(import.meta.dir, "..");
export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 150;

/** Folders never scanned: dependencies, generated code, data and run artefacts. */
const SKIP_DIRS = new Set(["node_modules", ".git", "proto/gen", "data", ".run", "artifacts"]);
/** Generated files outside those folders. */
const GENERATED = new Set(["gateway/web/assets.ts"]);

/**
 * Deliberate exceptions, each with a comment saying why it cannot be split (none today). Each entry is
 * `path` (the file is too long) or `path: function` (that function is); an entry that no longer offends
 * fails the check, so the list never keeps stale names.
 */
const ALLOWED = new Set<string>([]);

export interface Offence {
  /** `path` or `path: function`, as in ALLOWED. */
  key: string;
  lines: number;
}

const lineOf = (file: ts.SourceFile, pos: number) => file.getLineAndCharacterOfPosition(pos).line;

/** The name a function goes by: its own, its variable's, its property's, or its line. */
function nameOf(node: ts.FunctionLikeDeclaration, file: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return "constructor";
  if (node.name && !ts.isComputedPropertyName(node.name)) return node.name.getText(file);
  const parent = node.parent;
  if (
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) &&
    !ts.isComputedPropertyName(parent.name)
  )
    return parent.name.getText(file);
  return `(anonymous, line ${lineOf(file, node.getStart(file)) + 1})`;
}

/** What in one file breaks the rule (line counts run from a node's first token to its last). */
export function offences(path: string, source: string): Offence[] {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true);
  const found: Offence[] = [];
  const fileLines = source.split("\n").length - (source.endsWith("\n") ? 1 : 0);
  if (fileLines > MAX_FILE_LINES) found.push({ key: path, lines: fileLines });
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const lines = lineOf(file, fn.getEnd()) - lineOf(file, fn.getStart(file)) + 1;
      if (lines > MAX_FUNCTION_LINES) found.push({ key: `${path}: ${nameOf(fn, file)}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Every hand-written .ts file of the repository, relative to its root. */
function handWritten(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(ROOT, path);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !SKIP_DIRS.has(rel)) out.push(...handWritten(path));
    } else if (
      /\.(m|c)?tsx?$/.test(entry.name) &&
      !/\.test\.tsx?$/.test(entry.name) &&
      !entry.name.endsWith(".d.ts") &&
      !GENERATED.has(rel)
    ) {
      out.push(rel);
    }
  }
  return out;
}

describe("sizes", () => {
  const all = handWritten().flatMap((path) => offences(path, readFileSync(join(ROOT, path), "utf8")));

  test(`no hand-written file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}`, () => {
    const format = (o: Offence) => `${o.key} (${o.lines} lines)`;
    expect(all.filter((o) => !ALLOWED.has(o.key)).map(format)).toEqual([]);
  });

  test("every allowlist entry still offends (remove those that were split)", () => {
    const keys = new Set(all.map((o) => o.key));
    expect([...ALLOWED].filter((key) => !keys.has(key))).toEqual([]);
  });

  test("the check sees a file or a function that grows over the limit", () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const fn = (name: string, n: number) => `export function ${name}() {\n${body(n - 2)}\n}\n`;
    expect(offences("ok.ts", fn("fits", MAX_FUNCTION_LINES))).toEqual([]);
    expect(offences("long.ts", fn("grows", MAX_FUNCTION_LINES + 1))).toEqual([
      { key: "long.ts: grows", lines: MAX_FUNCTION_LINES + 1 },
    ]);
    const arrow = `const handlers = {\n  get: async () => {\n${body(MAX_FUNCTION_LINES - 1)}\n  },\n};\n`;
    expect(offences("arrow.ts", arrow).map((o) => o.key)).toEqual(["arrow.ts: get"]);
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const c${i} = ${i};`).join("\n");
    expect(offences("fits.ts", `${lines(MAX_FILE_LINES)}\n`)).toEqual([]);
    expect(offences("big.ts", `${lines(MAX_FILE_LINES + 1)}\n`)).toEqual([
      { key: "big.ts", lines: MAX_FILE_LINES + 1 },
    ]);
  });
});
