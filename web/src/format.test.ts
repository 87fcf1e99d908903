import { describe, expect, test } from "bun:test";
import { bytes, duration, percent, rate } from "./format.ts";

describe("format", () => {
  test("bytes", () => {
    expect([bytes(0), bytes(1023), bytes(1024), bytes(5 * 1024 * 1024), bytes(50 * 1024 ** 3)]).toEqual([
      "0 B",
      "1023 B",
      "1.0 KiB",
      "5.0 MiB",
      "50 GiB",
    ]);
    expect(rate(2.5 * 1024 * 1024)).toBe("2.5 MiB/s");
  });
  test("duration", () => {
    expect([duration(0.2), duration(59), duration(61), duration(3725), duration(Number.NaN)]).toEqual([
      "1 s",
      "59 s",
      "1 min 1 s",
      "1 h 2 min",
      "—",
    ]);
  });
  test("percent never passes 100 and an empty total is done", () => {
    expect([percent(0, 10), percent(5, 10), percent(11, 10), percent(0, 0)]).toEqual([0, 50, 100, 100]);
  });
});
