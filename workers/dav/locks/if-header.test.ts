// The If header (RFC 4918 10.4): the grammar's lists, tags, Not and ETags parsed; malformed headers refused
// (the service answers 400); evaluation true when any list holds for the resource it names.
import { describe, expect, test } from "bun:test";
import { BadIfHeaderError, ifHolds, parseIf, type ResourceState, submittedTokens } from "./if-header.ts";

const T = "opaquelocktoken:11111111-2222-3333-4444-555555555555";

describe("parseIf", () => {
  test("untagged lists with tokens, ETags and Not", () => {
    expect(parseIf(`(<${T}> ["abc"]) (Not <DAV:no-lock>)`)).toEqual([
      {
        resource: undefined,
        conditions: [
          { not: false, kind: "token", value: T },
          { not: false, kind: "etag", value: '"abc"' },
        ],
      },
      { resource: undefined, conditions: [{ not: true, kind: "token", value: "DAV:no-lock" }] },
    ]);
  });

  test("tagged lists keep their resource; several lists may follow one tag", () => {
    const lists = parseIf(`<http://h/dav/a> (<${T}>) ([W/"x"]) </dav/b>(NOT<urn:x>)`);
    expect(lists.map((l) => l.resource)).toEqual(["http://h/dav/a", "http://h/dav/a", "/dav/b"]);
    expect(lists[1]?.conditions[0]).toEqual({ not: false, kind: "etag", value: 'W/"x"' });
    expect(lists[2]?.conditions[0]).toEqual({ not: true, kind: "token", value: "urn:x" });
    expect([...submittedTokens(lists)]).toEqual([T, "urn:x"]);
  });

  test("malformed headers are refused", () => {
    for (const bad of [
      "",
      "   ",
      "<x>",
      "()",
      `(<${T}>`,
      `<${T}`,
      "([abc])",
      "(foo)",
      `(<${T}>) <http://h/a> (<x>)`,
      `<http://h/a> (<x>) (<y>) junk`,
      "(<a b>)",
      "<> (<x>)",
    ])
      expect(() => parseIf(bad), bad).toThrow(BadIfHeaderError);
  });
});

describe("ifHolds", () => {
  const state = (tokens: string[], etag?: string): ResourceState => ({ tokens: new Set(tokens), etag });
  const holds = (header: string, states: Record<string, ResourceState>) =>
    ifHolds(parseIf(header), async (r) => states[r ?? "self"] ?? state([]));

  test("a list holds when all its conditions do; the header when any list does", async () => {
    const self = { self: state([T], '"e1"') };
    expect(await holds(`(<${T}>)`, self)).toBe(true);
    expect(await holds(`(<${T}> ["e1"])`, self)).toBe(true);
    expect(await holds(`(<${T}> ["e2"])`, self)).toBe(false);
    expect(await holds(`(<${T}> [W/"e1"])`, self)).toBe(true);
    expect(await holds(`(<urn:other>)`, self)).toBe(false);
    expect(await holds(`(<urn:other>) (Not <DAV:no-lock>)`, self)).toBe(true);
    expect(await holds(`(Not <${T}>)`, self)).toBe(false);
    expect(await holds(`(Not ["e2"])`, self)).toBe(true);
  });

  test("an unmapped resource has no ETag and no tokens; tagged lists look at their own resource", async () => {
    expect(await holds(`(["e1"])`, {})).toBe(false);
    expect(await holds(`(Not ["e1"])`, {})).toBe(true);
    const states = { self: state([]), "/dav/coll/": state([T]) };
    expect(await holds(`</dav/coll/> (<${T}>)`, states)).toBe(true);
    expect(await holds(`</dav/other> (<${T}>)`, states)).toBe(false);
  });
});
