import { expect, test } from "bun:test";
import { httpDate, isoDate } from "./dates.ts";

test("the cached formats are exactly Date's, before and after 1970, on and between seconds", () => {
  const times = [
    0, 1, 999, 1000, 1_780_000_000_000, 1_780_000_000_123, 1_780_000_000_050, -1, -1500, 253_402_300_799_999,
  ];
  // Twice each: the second round is answered from the cache.
  for (const t of [...times, ...times]) {
    expect(httpDate(t)).toBe(new Date(t).toUTCString());
    expect(isoDate(t)).toBe(new Date(t).toISOString());
  }
});
