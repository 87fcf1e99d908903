// Upload paths of Nextcloud chunked uploads taken apart: user, transfer and chunk decoded; anything else
// (other prefixes, traversal, extra or empty segments) refused before a lookup.
import { describe, expect, test } from "bun:test";
import { parseUploadPath } from "./chunked.ts";
import { BadPathError } from "./paths.ts";

describe("parseUploadPath", () => {
  test("the folder, a chunk and .file", () => {
    expect(parseUploadPath("/remote.php/dav/uploads/ann/t-1")).toEqual({
      user: "ann",
      transfer: "t-1",
      chunk: undefined,
    });
    expect(parseUploadPath("/remote.php/dav/uploads/ann/t-1/")).toEqual({
      user: "ann",
      transfer: "t-1",
      chunk: undefined,
    });
    expect(parseUploadPath("/remote.php/dav/uploads/ann%20b/t%C3%A9/00003")).toEqual({
      user: "ann b",
      transfer: "té",
      chunk: "00003",
    });
    expect(parseUploadPath("/remote.php/dav/uploads/ann/t/.file")?.chunk).toBe(".file");
  });

  test("other paths are not upload paths", () => {
    expect(parseUploadPath("/remote.php/dav/files/ann/x")).toBeUndefined();
    expect(parseUploadPath("/dav/uploads/ann/t")).toBeUndefined();
  });

  test("traversal, NUL, missing or extra segments are refused", () => {
    for (const raw of [
      "/remote.php/dav/uploads/ann",
      "/remote.php/dav/uploads/ann/..",
      "/remote.php/dav/uploads/ann/%2e%2e/1",
      "/remote.php/dav/uploads/ann/t/%00",
      "/remote.php/dav/uploads/ann/t/1/2",
      "/remote.php/dav/uploads/ann//1",
    ])
      expect(() => parseUploadPath(raw)).toThrow(BadPathError);
  });
});
