import { describe, expect, test } from "bun:test";
import { backoffDelay } from "./backoff.ts";

describe("backoffDelay", () => {
  const b = { baseMs: 100, maxMs: 1000 } as const;
  test("doubles from baseMs and stops at maxMs", () => {
    const top = (retry: number) => backoffDelay(retry, { ...b, jitter: "full", random: () => 1 });
    expect([0, 1, 2, 3, 4, 5].map(top)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  test("full jitter spans 0 to the cap; equal jitter half of it to all of it", () => {
    expect(backoffDelay(2, { ...b, jitter: "full", random: () => 0 })).toBe(0);
    expect(backoffDelay(2, { ...b, jitter: "equal", random: () => 0 })).toBe(200);
    expect(backoffDelay(2, { ...b, jitter: "equal", random: () => 0.5 })).toBe(300);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, { ...b, jitter: "full" });
      expect(d >= 0 && d <= 800).toBe(true);
    }
  });
});
