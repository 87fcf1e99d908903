import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { hex, isHex, isSafeSize, pageSize, size } from "./validate.ts";

const codeOf = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
};

describe("validate", () => {
  test("hex: exactly the length, lower-case digits only", () => {
    expect(isHex("a".repeat(64), 64)).toBe(true);
    expect(isHex("0123456789abcdef".repeat(4), 64)).toBe(true);
    for (const bad of ["A".repeat(64), "g".repeat(64), "a".repeat(63), "a".repeat(65), " ".repeat(64), ""])
      expect([bad, isHex(bad, 64)]).toEqual([bad, false]);
    expect(isHex("f".repeat(40), 40)).toBe(true);
    expect(isHex("f".repeat(40), 64)).toBe(false);
    expect(hex("b".repeat(40), 40, "sha1")).toBe("b".repeat(40));
    expect(codeOf(() => hex("../etc", 64, "sha256"))).toBe(Code.InvalidArgument);
    expect(() => hex("x", 40, "blob.sha1")).toThrow("blob.sha1 must be 40 lower-case hex characters");
  });

  test("sizes: 0 to 2^53 - 1", () => {
    expect(isSafeSize(0n)).toBe(true);
    expect(isSafeSize(BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(isSafeSize(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toBe(false);
    expect(isSafeSize(-1n)).toBe(false);
    expect(size(12n)).toBe(12);
    expect(codeOf(() => size(-1n))).toBe(Code.InvalidArgument);
  });

  test("page size: 100 when unset, at most 1000", () => {
    expect(pageSize(0)).toBe(100);
    expect(pageSize(-5)).toBe(100);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(1000)).toBe(1000);
    expect(pageSize(1001)).toBe(1000);
  });
});
