// Paths below /public.php/webdav/ taken apart; traversal, NUL and empty segments refused before a lookup.
import { describe, expect, test } from "bun:test";
import { BadPathError } from "./paths.ts";
import { parsePublicPath } from "./public.ts";

describe("parsePublicPath", () => {
  test("the root and names below it, decoded", () => {
    expect(parsePublicPath("/public.php/webdav")).toEqual([]);
    expect(parsePublicPath("/public.php/webdav/")).toEqual([]);
    expect(parsePublicPath("/public.php/webdav/sub%20dir/%C3%BCn%C3%AF.bin")).toEqual(["sub dir", "ünï.bin"]);
    expect(parsePublicPath("/public.php/webdav/sub/")).toEqual(["sub"]);
    expect(parsePublicPath("/public.php/webdavx")).toBeUndefined();
    expect(parsePublicPath("/dav/x")).toBeUndefined();
  });

  test("traversal, NUL and empty segments are refused", () => {
    for (const raw of [
      "/public.php/webdav/..",
      "/public.php/webdav/%2e%2e/x",
      "/public.php/webdav/a%00",
      "/public.php/webdav/a//b",
    ])
      expect(() => parsePublicPath(raw)).toThrow(BadPathError);
  });
});
