// What the image is built from (`COPY . .` in the Dockerfile): merge leftovers (*.orig, *.rej) are neither
// committed nor sent in the build context, so none ships in the image.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const tracked = Bun.spawnSync(["git", "ls-files", "-z", "--", "*.orig", "*.rej"], { cwd: ROOT });

test.skipIf(!tracked.success)("no merge leftover is committed", () => {
  expect(tracked.stdout.toString().split("\0").filter(Boolean)).toEqual([]);
});

test("the build context leaves merge leftovers out at any depth", () => {
  const patterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim());
  expect(patterns).toContain("**/*.orig");
  expect(patterns).toContain("**/*.rej");
});
