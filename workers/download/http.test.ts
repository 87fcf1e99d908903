import { describe, expect, test } from "bun:test";
import {
  contentDisposition,
  contentTypeFor,
  etagOf,
  noneMatch,
  parseRange,
  rangeStillValid,
} from "./http.ts";
import { filenameOf } from "./testing.ts";

describe("parseRange", () => {
  const size = 1000;
  test.each([
    ["bytes=0-0", 0, 0, "first byte"],
    ["bytes=999-999", 999, 999, "last byte"],
    ["bytes=100-199", 100, 199, "middle"],
    ["bytes=-10", 990, 999, "suffix"],
    ["bytes=-5000", 0, 999, "suffix longer than the file"],
    ["bytes=990-", 990, 999, "open"],
    ["bytes=500-99999", 500, 999, "end clamped"],
    ["bytes=0-99999999999999999999999", 0, 999, "huge end clamped"],
    ["Bytes = 1-2", 1, 2, "unit case and spaces"],
    ["bytes=0-1 ", 0, 1, "a trailing space"],
    ["bytes=007-008", 7, 8, "leading zeros"],
    ["bytes=123456789012345-", 123456789012345, 123456789012345, "15 digits (a file that large)"],
    ["bytes=5-0999999999999999", 5, 999, "16 digits: past any size"],
  ])("%s → %d-%d (%s)", (header, start, end) => {
    expect(parseRange(header, start > size ? start + 1 : size)).toEqual({ kind: "partial", start, end });
  });

  test.each([
    ["bytes=1000-", "start at the size"],
    ["bytes=1000-1001", "start past the end"],
    ["bytes=99999999999999999999-", "huge start"],
    ["bytes=-0", "empty suffix"],
  ])("%s → unsatisfiable (%s)", (header) => {
    expect(parseRange(header, size)).toEqual({ kind: "unsatisfiable" });
  });

  test("any range of empty content is unsatisfiable", () => {
    expect(parseRange("bytes=0-", 0).kind).toBe("unsatisfiable");
    expect(parseRange("bytes=-1", 0).kind).toBe("unsatisfiable");
  });

  test.each([
    [null, "no header"],
    ["", "empty"],
    ["items=0-1", "another unit"],
    ["bytes=5-1", "end before start"],
    ["bytes=a-b", "not numbers"],
    ["bytes=-", "no positions"],
    ["bytes=0-1,5-6", "several ranges: the whole file"],
    ["bytes=1.5-2", "decimals"],
    ["bytes=0-1,", "a trailing comma: a list"],
    ["bytes=1-2-3", "two dashes"],
    ["bytes=+1-2", "a sign"],
  ])("%s → the whole file (%s)", (header) => {
    expect(parseRange(header, size)).toEqual({ kind: "full" });
  });
});

describe("validators", () => {
  const etag = etagOf("ab".repeat(32));
  test("the ETag is the quoted SHA-256", () => expect(etag).toBe(`"${"ab".repeat(32)}"`));
  test("If-None-Match: listed, weak, or * means current", () => {
    expect(noneMatch(etag, etag)).toBe(true);
    expect(noneMatch(`"x", W/${etag}`, etag)).toBe(true);
    expect(noneMatch("*", etag)).toBe(true);
    expect(noneMatch('"other"', etag)).toBe(false);
    expect(noneMatch(null, etag)).toBe(false);
  });
  test("If-Range: only the exact strong ETag keeps the range", () => {
    expect(rangeStillValid(null, etag)).toBe(true);
    expect(rangeStillValid(etag, etag)).toBe(true);
    expect(rangeStillValid(`W/${etag}`, etag)).toBe(false);
    expect(rangeStillValid('"other"', etag)).toBe(false);
    expect(rangeStillValid("Wed, 21 Oct 2015 07:28:00 GMT", etag)).toBe(false);
  });
});

describe("Content-Type", () => {
  test.each([
    ["notes.txt", "text/plain; charset=utf-8"],
    ["PHOTO.JPG", "image/jpeg"],
    ["archive.tar.gz", "application/gzip"],
    ["noext", "application/octet-stream"],
    ["weird.xyz", "application/octet-stream"],
    [".hidden", "application/octet-stream"],
  ])("%s → %s", (name, type) => expect(contentTypeFor(name)).toBe(type));
});

describe("Content-Disposition (RFC 6266)", () => {
  test.each([
    "plain.txt",
    'quote"d "name".txt',
    "semi;colon; name=x.txt",
    "back\\slash.txt",
    "中文文件名.txt",
    "emoji 🎉🚀.bin",
    "percent %41 and 'single' (parens)*.txt",
    "tab\tand\u007fdel",
  ])("%s survives the round trip", (name) => {
    const header = contentDisposition(name);
    expect(header.startsWith("attachment; ")).toBe(true);
    expect(filenameOf(header)).toBe(name);
    // Header values must be visible ASCII (no raw UTF-8, no controls).
    expect(/^[\x20-\x7e]*$/.test(header)).toBe(true);
  });

  test("the ASCII fallback escapes quotes and backslashes and replaces the rest", () => {
    const header = contentDisposition('a"b\\c 中.txt');
    expect(header).toContain('filename="a\\"b\\\\c _.txt"');
    // The fallback alone (an old client) still reads a sane name.
    const fallbackOnly = header.replace(/; filename\*=.*$/, "");
    expect(filenameOf(fallbackOnly)).toBe('a"b\\c _.txt');
    expect(contentDisposition("🎉.txt")).toContain('filename="_.txt"');
  });

  test("filename* percent-encodes UTF-8 bytes and every non-attr-char", () => {
    expect(contentDisposition("中.txt")).toBe(`attachment; filename="_.txt"; filename*=UTF-8''%E4%B8%AD.txt`);
    expect(contentDisposition("a b;'c'.txt")).toContain("filename*=UTF-8''a%20b%3B%27c%27.txt");
  });
});
