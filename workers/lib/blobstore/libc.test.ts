import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canWriteBehind, startWriteback, tryLock } from "./libc.ts";

const dir = mkdtempSync(join(tmpdir(), "libc-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("flock", () => {
  test("an exclusive lock keeps every other open file description out until it is closed", () => {
    const path = join(dir, "lock");
    const a = openSync(path, "a+");
    const b = openSync(path, "a+");
    try {
      expect(tryLock(a, "exclusive")).toBe(true);
      expect(tryLock(b, "shared")).toBe(false);
      expect(tryLock(b, "exclusive")).toBe(false);
      closeSync(a); // closing releases it: a crashed holder leaves no stale lock
      expect(tryLock(b, "exclusive")).toBe(true);
    } finally {
      closeSync(b);
    }
  });

  test("shared locks coexist and keep an exclusive one out", () => {
    const path = join(dir, "shared");
    const [a, b, c] = [openSync(path, "a+"), openSync(path, "a+"), openSync(path, "a+")];
    try {
      expect(tryLock(a, "shared")).toBe(true);
      expect(tryLock(b, "shared")).toBe(true);
      expect(tryLock(c, "exclusive")).toBe(false);
    } finally {
      for (const fd of [a, b, c]) closeSync(fd);
    }
  });
});

describe("write-behind", () => {
  test("is there on Linux", () => {
    expect(canWriteBehind()).toBe(process.platform === "linux");
  });

  test("starting writeback leaves the bytes as written, and a bad descriptor or range is only a hint", () => {
    const path = join(dir, "data");
    const fd = openSync(path, "w");
    const bytes = crypto.getRandomValues(new Uint8Array(3 << 20));
    try {
      writeSync(fd, bytes, 0, bytes.byteLength, 0);
      startWriteback(fd, 0, 2 << 20);
      startWriteback(fd, 2 << 20, 1 << 20);
      startWriteback(fd, 1 << 40, 1 << 20); // past the end
      startWriteback(-1, 0, 1); // EBADF, ignored
    } finally {
      closeSync(fd);
    }
    expect(Buffer.compare(readFileSync(path), Buffer.from(bytes))).toBe(0);
  });
});
