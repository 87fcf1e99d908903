import { expect, test } from "bun:test";
import { isAncestor } from "./lock-paths.ts";

test("isAncestor: strict ancestors by whole names, the root above everything but itself", () => {
  expect(isAncestor("", "a")).toBe(true);
  expect(isAncestor("", "a/b")).toBe(true);
  expect(isAncestor("", "")).toBe(false);
  expect(isAncestor("a", "a/b")).toBe(true);
  expect(isAncestor("a", "a/b/c")).toBe(true);
  expect(isAncestor("a", "a")).toBe(false);
  // A name that merely starts like the ancestor's is not below it.
  expect(isAncestor("a", "ab")).toBe(false);
  expect(isAncestor("a/b", "a")).toBe(false);
});
