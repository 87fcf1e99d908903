// WebDAV paths: the mount prefixes and their aliases, names decoded one segment at a time, and every
// form of traversal or smuggled separator refused before a lookup.
import { describe, expect, test } from "bun:test";
import { BadPathError, hrefOf, isDavPath, parseDavPath, rawPathOf } from "./paths.ts";

describe("parseDavPath", () => {
  test("the three mounts, with and without a trailing slash", () => {
    expect(parseDavPath("/dav")).toEqual({ prefix: "/dav/", names: [], slash: true });
    expect(parseDavPath("/dav/a%20b/c%C3%A9/")).toEqual({
      prefix: "/dav/",
      names: ["a b", "cé"],
      slash: true,
      user: undefined,
    });
    expect(parseDavPath("/remote.php/webdav/x")?.names).toEqual(["x"]);
    expect(parseDavPath("/remote.php/dav/files/ann/x/y.txt")).toEqual({
      prefix: "/remote.php/dav/files/ann/",
      user: "ann",
      names: ["x", "y.txt"],
      slash: false,
    });
    expect(parseDavPath("/download/v1/files/x")).toBeUndefined();
    expect(isDavPath("/davx")).toBe(false);
  });

  test("dot segments (plain or encoded), NUL, encoded separators, bad encodings and // are refused", () => {
    for (const p of [
      "/dav/..",
      "/dav/a/../b",
      "/dav/%2e%2e/x",
      "/dav/%2E%2e",
      "/dav/.",
      "/dav/a%00b",
      "/dav/a%2Fb",
      "/dav/a%5cb",
      "/dav/%ff",
      "/dav/a//b",
      "/remote.php/dav/files/%2e%2e/x",
    ])
      expect(() => parseDavPath(p)).toThrow(BadPathError);
  });

  test("rawPathOf keeps what the URL parser would resolve; hrefOf encodes each name", () => {
    expect(rawPathOf("http://h:1/dav/%2e%2e/x?y#z")).toBe("/dav/%2e%2e/x");
    expect(hrefOf("/dav/", ["a b", "c#d"], true)).toBe("/dav/a%20b/c%23d/");
    expect(hrefOf("/dav/", [], true)).toBe("/dav/");
  });
});
