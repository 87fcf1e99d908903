import { expect, test } from "bun:test";
import { ExpiringCache } from "./cache.ts";

test("entries expire at their own time and the oldest is evicted when full", () => {
  let t = 1000;
  const c = new ExpiringCache<string, number>(2, () => t);
  c.set("a", 1, 1500);
  c.set("b", 2, 3000);
  expect(c.get("a")).toBe(1);
  t = 1500;
  expect(c.get("a")).toBeUndefined();
  c.set("a", 1, 5000);
  c.set("c", 3, 5000); // full: "b" (oldest) goes
  expect(c.get("b")).toBeUndefined();
  expect([c.get("a"), c.get("c")]).toEqual([1, 3]);
  c.set("a", 9, 5000); // overwrite does not evict
  expect([c.get("a"), c.get("c")]).toEqual([9, 3]);
  c.delete("a");
  expect(c.get("a")).toBeUndefined();
});
