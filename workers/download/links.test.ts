import { describe, expect, test } from "bun:test";
import {
  checkLink,
  type LinkClaims,
  type LinkParams,
  linkKeyFrom,
  linkParams,
  linkQuery,
  VerifiedLinks,
} from "./links.ts";

const key = linkKeyFrom("s".repeat(32));
const claims: LinkClaims = {
  fileId: crypto.randomUUID(),
  sha256: "a".repeat(64),
  expires: 2_000,
  generation: 3,
};
const current = { fileId: claims.fileId, sha256: claims.sha256, generation: 3 };
const query = linkQuery(key, claims);
const check = (q: string, now = 1_000_000, cur = current) => {
  const p = linkParams(new URLSearchParams(q));
  return p ? checkLink(key, cur, p, now) : "malformed";
};

describe("signed download links", () => {
  test("a fresh link holds; it carries no secret but its signature", () => {
    expect(check(query)).toBe("valid");
    expect(query).toMatch(/^expires=2000&gen=3&sig=[A-Za-z0-9_-]{43}$/);
  });

  test("it expires at its expiry second", () => {
    expect(check(query, 1_999_999)).toBe("valid");
    expect(check(query, 2_000_000)).toBe("expired");
  });

  test("a new link generation revokes it", () => {
    expect(check(query, 1_000_000, { ...current, generation: 4 })).toBe("revoked");
  });

  test("it is bound to the file and its content", () => {
    expect(check(query, 1_000_000, { ...current, fileId: crypto.randomUUID() })).toBe("invalid");
    expect(check(query, 1_000_000, { ...current, sha256: "b".repeat(64) })).toBe("invalid");
  });

  test("another key's link does not hold", () => {
    const other = linkQuery(linkKeyFrom("t".repeat(32)), claims);
    expect(check(other)).toBe("invalid");
  });

  test("changing any one character breaks it", () => {
    for (let i = 0; i < query.length; i++) {
      for (const replacement of ["A", "0", "_"]) {
        if (query[i] === replacement) continue;
        const changed = query.slice(0, i) + replacement + query.slice(i + 1);
        const verdict = check(changed);
        if (verdict === "valid") throw new Error(`changing position ${i} to ${replacement} kept it valid`);
      }
    }
    // In particular the last signature character, whose low bits base64url does not decode.
    const last = query.at(-1) as string;
    const flipped = String.fromCharCode(last.charCodeAt(0) ^ 1);
    expect(check(query.slice(0, -1) + flipped)).not.toBe("valid");
  });

  test("a longer expiry or an older generation is refused, not extended", () => {
    expect(check(query.replace("expires=2000", "expires=9000"))).toBe("invalid");
    expect(check(query.replace("gen=3", "gen=4"), 1_000_000, { ...current, generation: 4 })).toBe("invalid");
  });

  test("a share's link signs its share id: it cannot be dropped, swapped or added", () => {
    const shareId = "S".repeat(24);
    const shared = linkQuery(key, { ...claims, shareId });
    expect(shared).toContain(`&share=${shareId}&`);
    expect(check(shared)).toBe("valid");
    expect(linkParams(new URLSearchParams(shared))?.shareId).toBe(shareId);
    // Dropped (the URL would no longer be checked against the share), swapped, or added to a plain link.
    expect(check(shared.replace(`&share=${shareId}`, ""))).toBe("invalid");
    expect(check(shared.replace(shareId, "T".repeat(24)))).toBe("invalid");
    expect(check(`${query}&share=${shareId}`)).toBe("invalid");
    expect(check(shared.replace(shareId, "bad id!"))).toBe("malformed");
  });

  test("a signature remembered as verified passes again only for the very same claims", () => {
    const verified = new VerifiedLinks();
    const shareId = "S".repeat(24);
    const shared = linkParams(new URLSearchParams(linkQuery(key, { ...claims, shareId }))) as LinkParams;
    expect(checkLink(key, current, shared, 1_000_000, verified)).toBe("valid");
    expect(checkLink(key, current, shared, 1_000_000, verified)).toBe("valid");
    // The remembered signature does not carry over to other claims, nor does it skip expiry or revocation.
    expect(checkLink(key, current, { ...shared, shareId: "T".repeat(24) }, 1_000_000, verified)).toBe(
      "invalid",
    );
    expect(checkLink(key, current, { ...shared, expires: 3_000 }, 1_000_000, verified)).toBe("invalid");
    expect(checkLink(key, { ...current, sha256: "b".repeat(64) }, shared, 1_000_000, verified)).toBe(
      "invalid",
    );
    expect(checkLink(key, current, shared, 2_000_000, verified)).toBe("expired");
    expect(checkLink(key, { ...current, generation: 4 }, shared, 1_000_000, verified)).toBe("revoked");
    // A forged signature is never remembered: refused every time.
    const forged = { ...shared, sig: `${shared.sig.slice(0, 42)}${shared.sig.endsWith("A") ? "B" : "A"}` };
    expect(checkLink(key, current, forged, 1_000_000, verified)).toBe("invalid");
    expect(checkLink(key, current, forged, 1_000_000, verified)).toBe("invalid");
  });
});
