import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MAKE_SECRET, persistedSecret, requireStrongSecret, weakSecretReason } from "./internal-secret.ts";
import { requireInternalSecret } from "./worker.ts";

const ROOT = resolve(import.meta.dir, "../..");
const GOOD = "q3Jw8v0T6mYxk1bR9cN2sLpZ4eHdU7aFo5iGtVyWjXnKuMhE0Q1rS2tU3vW4xY5z"; // 64 characters

describe("weakSecretReason", () => {
  test("a long random secret passes", () => {
    expect(weakSecretReason("INTERNAL_SECRET", GOOD)).toBeUndefined();
    expect(weakSecretReason("INTERNAL_SECRET", "x".repeat(32))).toBeUndefined();
  });

  test("unset, placeholder and short secrets are refused with how to make one", () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /INTERNAL_SECRET must be set/],
      ["", /INTERNAL_SECRET must be set/],
      ["dev-only-internal-secret-change-me", /placeholder/],
      // Long enough, but the example value of deploy/k8s/secret.yaml.
      ["change-me-to-a-long-random-string", /placeholder/],
      ["CHANGEME-0123456789abcdef0123456789abcdef", /placeholder/],
      ["x".repeat(31), /too short \(31 bytes, at least 32\)/],
    ];
    for (const [value, why] of cases) {
      const reason = weakSecretReason("INTERNAL_SECRET", value);
      expect(reason).toMatch(why);
      expect(reason).toContain(MAKE_SECRET);
    }
  });

  test("length is counted in bytes", () => {
    // 16 characters of 2 bytes each: 32 bytes.
    expect(weakSecretReason("S", "é".repeat(16))).toBeUndefined();
    expect(weakSecretReason("S", "é".repeat(15))).toMatch(/30 bytes/);
  });

  test("requireStrongSecret and requireInternalSecret throw the reason", () => {
    expect(requireStrongSecret("DOWNLOAD_LINK_SECRET", GOOD)).toBe(GOOD);
    expect(() => requireStrongSecret("DOWNLOAD_LINK_SECRET", "short")).toThrow(
      /DOWNLOAD_LINK_SECRET is too short/,
    );
    expect(requireInternalSecret({ internalSecret: GOOD })).toBe(GOOD);
    expect(() => requireInternalSecret({ internalSecret: "dev-only-internal-secret-change-me" })).toThrow(
      /INTERNAL_SECRET is a placeholder.*openssl rand -base64 48/,
    );
  });
});

describe("persistedSecret (all-in-one's default)", () => {
  test("made once, readable by its owner only, and the same at every later start", () => {
    const dir = mkdtempSync(join(tmpdir(), "filestore-secret-"));
    try {
      const file = join(dir, "nested", "internal-secret");
      const first = persistedSecret(file);
      expect(weakSecretReason("INTERNAL_SECRET", first)).toBeUndefined();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(persistedSecret(file)).toBe(first);
      expect(readFileSync(file, "utf8").trim()).toBe(first);
      // A secret put there by the operator is used as it is.
      writeFileSync(file, `${GOOD}\n`);
      expect(persistedSecret(file)).toBe(GOOD);
      writeFileSync(file, "");
      expect(() => persistedSecret(file)).toThrow(/is empty: delete it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a worker process outside all-in-one", () => {
  // Each stops while reading its configuration, before it opens a database or a port.
  const start = (entry: string, env: Record<string, string>) =>
    Bun.spawnSync(["node_modules/.bin/bun", entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", PORT: "0", DATA_DIR: tmpdir(), ...env },
      stderr: "pipe",
      stdout: "pipe",
    });

  test("refuses to start with the placeholder secret, saying how to make one", () => {
    const r = start("workers/meta/main.ts", { INTERNAL_SECRET: "dev-only-internal-secret-change-me" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toContain("INTERNAL_SECRET is a placeholder, not a secret");
    expect(r.stderr.toString()).toContain(MAKE_SECRET);
  });

  test("refuses a short secret, and a short download link secret", () => {
    const short = start("workers/upload/main.ts", { INTERNAL_SECRET: "0123456789abcdef" });
    expect(short.exitCode).not.toBe(0);
    expect(short.stderr.toString()).toContain("INTERNAL_SECRET is too short (16 bytes");
    const link = start("workers/download/main.ts", { INTERNAL_SECRET: GOOD, DOWNLOAD_LINK_SECRET: "abc" });
    expect(link.exitCode).not.toBe(0);
    expect(link.stderr.toString()).toContain("DOWNLOAD_LINK_SECRET is too short (3 bytes");
  });
});
