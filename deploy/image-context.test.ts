// The runtime images (Dockerfile) and what they are built from, checked without a Docker engine: pinned
// maintained bases matching package.json's runtimes, production dependencies only, enough of them for
// every import the shipped code makes, an unprivileged user, a health check; and a build context free of
// merge leftovers and tests.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const tracked = Bun.spawnSync(["git", "ls-files", "-z", "--", "*.orig", "*.rej"], { cwd: ROOT });
const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim());

test.skipIf(!tracked.success)("no merge leftover is committed", () => {
  expect(tracked.stdout.toString().split("\0").filter(Boolean)).toEqual([]);
});

test("the build context leaves merge leftovers and tests out at any depth", () => {
  for (const p of ["**/*.orig", "**/*.rej", "**/*.test.ts", "node_modules", ".env"])
    expect(ignored).toContain(p);
});

/** The Dockerfile's stages: the FROM line's image and name, and the instructions under it. */
interface Stage {
  image: string;
  name: string;
  lines: string[];
}
function stages(): Stage[] {
  // Continuation lines joined; comments dropped.
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const out: Stage[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) out.push({ image: from[1] as string, name: from[2] ?? "", lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe("Dockerfile", () => {
  const all = stages();
  const named = (name: string) => all.find((s) => s.name === name) as Stage;
  // What ships: the default (last) stage, and the gateway's.
  const runtime = [named("gateway"), all.at(-1) as Stage];
  const has = (s: Stage, re: RegExp) => s.lines.some((l) => re.test(l));

  test("has the dependency stage, the gateway and the workers (default) targets", () => {
    expect(all.map((s) => s.name)).toEqual(["deps", "gateway", "workers"]);
  });

  test("every base is pinned to an exact version, and the runtimes to the ones package.json installs", () => {
    for (const { image } of all) {
      expect(image, image).not.toMatch(/:latest$/);
      // A tag with a full x.y.z version, or a digest.
      expect(image, image).toMatch(/:[a-z-]*\d+\.\d+\.\d+(-[a-z]+)?$|@sha256:[0-9a-f]{64}$/);
    }
    for (const s of [named("deps"), named("workers")])
      expect(s.image).toBe(`oven/bun:${pkg.devDependencies.bun}-slim`);
    expect(named("gateway").image).toBe(`denoland/deno:debian-${pkg.devDependencies.deno}`);
  });

  test("production dependencies only: installed with --production from the lockfile, no toolchain", () => {
    expect(has(named("deps"), /^RUN bun install --production --frozen-lockfile\b/)).toBe(true);
    for (const s of runtime) {
      // node_modules comes from the production install, never from the context or a dev install.
      expect(s.lines.filter((l) => /node_modules/.test(l))).toEqual([
        "COPY --from=deps /app/node_modules ./node_modules",
      ]);
      expect(has(s, /^COPY \. /)).toBe(false);
      expect(has(s, /\b(npm|bun) (ci|install)\b|apt-get install/)).toBe(false);
    }
    // What the lockfile marks as development only (the toolchain) is what --production leaves out.
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    for (const tool of ["deno", "bun", "@biomejs/biome", "@bufbuild/buf", "playwright-core", "typescript"]) {
      expect(pkg.dependencies[tool], tool).toBeUndefined();
      expect(lock.packages[`node_modules/${tool}`]?.dev, tool).toBe(true);
    }
  });

  test("every package the shipped code imports is a production dependency", () => {
    const deps = new Set(Object.keys(pkg.dependencies));
    const missing = new Set<string>();
    for (const file of new Bun.Glob("{core,workers,gateway,proto/gen}/**/*.ts").scanSync(ROOT)) {
      if (file.endsWith(".test.ts") || file.startsWith("gateway/test/")) continue;
      const src = readFileSync(join(ROOT, file), "utf8");
      for (const m of src.matchAll(/^\s*(?:import|export)\b[^"']*?from\s+["']([^"'.][^"']*)["']/gm)) {
        const spec = m[1] as string;
        if (/^(node|bun):|^bun$/.test(spec) || spec.startsWith("/")) continue;
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : (spec.split("/")[0] as string);
        if (!deps.has(name)) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  test("each runtime image runs as an unprivileged user and checks its health", () => {
    for (const s of runtime) {
      const users = s.lines.filter((l) => l.startsWith("USER "));
      expect(users.length, s.name).toBeGreaterThan(0);
      const user = (users.at(-1) as string).slice(5).trim().split(":")[0];
      expect(["root", "0", ""]).not.toContain(user);
      expect(has(s, /^HEALTHCHECK\s.*CMD\s/), s.name).toBe(true);
      expect(has(s, /^CMD \[/), s.name).toBe(true);
    }
  });

  test("the workers image's health check and commands are files the image holds", () => {
    const copied = named("workers")
      .lines.filter((l) => l.startsWith("COPY ") && !l.includes("--from"))
      .map((l) => l.split(/\s+/)[1] as string);
    expect(copied).toEqual(expect.arrayContaining(["core", "proto/gen", "gateway", "workers"]));
    expect(has(named("workers"), /workers\/healthcheck\.ts/)).toBe(true);
  });
});
