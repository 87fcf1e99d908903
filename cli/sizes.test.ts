import { describe, expect, test } from "bun:test";
import { UsageError } from "./args.ts";
import { parseDuration, parseSize } from "./sizes.ts";

describe("parseSize", () => {
  test("bytes and binary units, as df prints them", () => {
    expect(parseSize("4096")).toBe(4096n);
    expect(parseSize("500M")).toBe(500n * 2n ** 20n);
    expect(parseSize("10G")).toBe(10n * 2n ** 30n);
    expect(parseSize("1.5GiB")).toBe(3n * 2n ** 29n);
    expect(parseSize("2t")).toBe(2n * 2n ** 40n);
    expect(parseSize("7 KB")).toBe(7n * 1024n);
  });
  test("anything else is a usage error", () => {
    for (const bad of ["", "-1", "ten", "5X", "1e3", "9999999999P"])
      expect(() => parseSize(bad)).toThrow(UsageError);
  });
});

describe("parseDuration", () => {
  test("units s, m, h, d, w", () => {
    expect([parseDuration("90m"), parseDuration("12h"), parseDuration("7d"), parseDuration("2w")]).toEqual([
      5400, 43200, 604800, 1209600,
    ]);
    for (const bad of ["7", "d", "1.5d", "-1d"]) expect(() => parseDuration(bad)).toThrow(UsageError);
  });
});
