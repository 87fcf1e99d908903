// The house rule on imports, checked on every file: the gateway (it runs under Deno) imports only from
// itself, core/, proto/gen and npm packages, never from workers/; core/ (shared by the gateway and the
// workers) is Web-standard: no node:/bun: modules, no Node, Bun or Deno globals, only the npm packages
// listed.
// Test files may use bun:test and node: modules; gateway tests may also take the two worker test fixtures
// named below.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";

const ROOT = join(import.meta.dir, "..");

/** npm packages core/ may use: each runs unchanged on Deno, Bun, Node and in browsers. */
const CORE_PACKAGES =
  /^(@connectrpc\/[^/]+|@bufbuild\/protobuf|jose|@opentelemetry\/(api|core|sdk-trace|resources|otlp-transformer))(\/|$)/;
/** Globals of one runtime: core/ reaches a runtime only through what its callers pass in. */
const RUNTIME_GLOBALS = new Set(["Bun", "Deno", "process", "Buffer", "require", "__dirname", "__filename"]);
/**
 * Worker modules gateway tests may import: a port that refuses connections (needs a runtime socket), and
 * the account service's own signing keys, so that the gateway is tested on tokens made the way they are.
 */
const GATEWAY_TEST_FIXTURES = new Set(["workers/lib/testing.ts", "workers/account/keys.ts"]);

interface Found {
  specifiers: string[];
  globals: string[];
}

/** Every module specifier (import, export … from, import()) and every use of a runtime global. */
function scan(path: string, source: string): Found {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true);
  const found: Found = { specifiers: [], globals: [] };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.specifiers.push(node.arguments[0].text);
    } else if (ts.isIdentifier(node) && RUNTIME_GLOBALS.has(node.text) && isReference(node)) {
      found.globals.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** False for an identifier that only names a property or member (`x.process`, `{ process: … }`). */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p)) && p.name === id)
    return false;
  if (ts.isPropertyDeclaration(p) && p.name === id) return false;
  return true;
}

/** What is wrong with one module specifier of a file (repository-relative path), or undefined. */
function specifierProblem(path: string, spec: string): string | undefined {
  const isTest = path.endsWith(".test.ts");
  const inCore = path.startsWith("core/");
  if (spec.startsWith(".")) {
    const target = normalize(join(dirname(path), spec));
    const allowed =
      target.startsWith("core/") ||
      target.startsWith("proto/gen/") ||
      (!inCore && (target.startsWith("gateway/") || (isTest && GATEWAY_TEST_FIXTURES.has(target))));
    return allowed ? undefined : `${path} imports ${target}`;
  }
  // Tests run only under `bun test` (core/ tests are outside the gateway's Web-standard typecheck).
  if (isTest && (spec === "bun:test" || spec.startsWith("node:"))) return undefined;
  if (/^(node|bun|deno|npm|jsr):/.test(spec) || spec === "bun")
    return `${path} imports the runtime module ${spec}`;
  if (inCore && !isTest && !CORE_PACKAGES.test(spec))
    return `${path} imports ${spec}, not one of core/'s Web-standard packages`;
  return undefined;
}

/** What is wrong with one file's imports and globals (repository-relative path), or nothing. */
function violations(path: string, source: string): string[] {
  const { specifiers, globals } = scan(path, source);
  const problems = specifiers.flatMap((spec) => specifierProblem(path, spec) ?? []);
  if (path.startsWith("core/") && !path.endsWith(".test.ts"))
    for (const g of globals) problems.push(`${path} uses the runtime global ${g}`);
  return problems;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => relative(ROOT, join(ROOT, dir, f)));
}

describe("imports", () => {
  test("the gateway imports only itself, core/, proto/gen and npm packages; core/ is Web-standard", () => {
    const files = [...tsFiles("gateway"), ...tsFiles("core")];
    // The scan must see the files it guards (a wrong root would pass on nothing).
    expect(files).toContain("gateway/app.ts");
    expect(files).toContain("core/access-token.ts");
    const problems = files.flatMap((f) => violations(f, readFileSync(join(ROOT, f), "utf8")));
    expect(problems).toEqual([]);
  });

  test("the check catches each kind of violation", () => {
    expect(violations("gateway/app.ts", 'import { x } from "../workers/lib/config.ts";')).toEqual([
      "gateway/app.ts imports workers/lib/config.ts",
    ]);
    expect(violations("gateway/rpc/a.ts", 'export { y } from "../../e2e/harness.ts";')).toEqual([
      "gateway/rpc/a.ts imports e2e/harness.ts",
    ]);
    expect(violations("gateway/main.ts", 'const m = await import("node:fs");')).toEqual([
      "gateway/main.ts imports the runtime module node:fs",
    ]);
    expect(violations("gateway/test/a.test.ts", 'import "../../workers/lib/testing.ts";')).toEqual([]);
    expect(violations("gateway/test/a.test.ts", 'import "../../workers/lib/config.ts";')).toEqual([
      "gateway/test/a.test.ts imports workers/lib/config.ts",
    ]);
    expect(violations("core/a.ts", 'import { Hono } from "hono";\nimport "../workers/lib/log.ts";')).toEqual([
      "core/a.ts imports hono, not one of core/'s Web-standard packages",
      "core/a.ts imports workers/lib/log.ts",
    ]);
    expect(
      violations(
        "core/a.ts",
        "const a = Buffer.from(process.env.X ?? '');\nBun.sleep(1);\nconst o = { process: 1 };",
      ),
    ).toEqual([
      "core/a.ts uses the runtime global Buffer",
      "core/a.ts uses the runtime global process",
      "core/a.ts uses the runtime global Bun",
    ]);
    expect(violations("core/a.test.ts", 'import { test } from "bun:test";')).toEqual([]);
  });
});
