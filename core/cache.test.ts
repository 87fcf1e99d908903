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

test("the entry read last answers like the map: overwritten, deleted, evicted and expired entries included", () => {
  let t = 1000;
  const c = new ExpiringCache<string, number>(2, () => t);
  c.set("a", 1, 2000);
  expect(c.get("a")).toBe(1);
  c.set("a", 2, 2000); // overwrite of the entry read last
  expect(c.get("a")).toBe(2);
  c.delete("a");
  expect(c.get("a")).toBeUndefined();
  c.set("a", 3, 2000);
  expect(c.get("a")).toBe(3);
  c.set("b", 4, 2000);
  c.set("c", 5, 2000); // full: "a" (oldest) goes, though it was read last
  expect(c.get("a")).toBeUndefined();
  expect(c.get("c")).toBe(5);
  // A key equal in content but another string object finds the entry read last.
  expect(c.get(["c"].join(""))).toBe(5);
  t = 2000;
  expect(c.get("c")).toBeUndefined(); // expired, although read last
  t = 1000;
  expect(c.get("c")).toBeUndefined(); // and gone from the map too
  expect(c.get("b")).toBe(4);
});

test("tags: deleteTag drops exactly the entries set under it (evicted and overwritten ones forgotten); clear drops all", () => {
  const c = new ExpiringCache<string, number>(3, () => 1000);
  c.set("a1", 1, 5000, "alice");
  c.set("a2", 2, 5000, "alice");
  c.set("b1", 3, 5000, "bob");
  c.deleteTag("alice");
  expect([c.get("a1"), c.get("a2"), c.get("b1"), c.size]).toEqual([undefined, undefined, 3, 1]);
  c.set("b1", 4, 5000, "carol"); // overwritten under another tag: no longer Bob's
  c.deleteTag("bob");
  expect(c.get("b1")).toBe(4);
  c.set("x", 5, 5000);
  c.set("y", 6, 5000);
  c.set("z", 7, 5000); // full: "b1" evicted
  c.deleteTag("carol");
  expect([c.get("x"), c.get("y"), c.get("z"), c.size]).toEqual([5, 6, 7, 3]);
  c.clear();
  expect([c.get("x"), c.size]).toEqual([undefined, 0]);
});
