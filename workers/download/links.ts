// Signed download links: `/download/v1/links/<fileId>?expires=<epoch s>&gen=<n>&sig=<mac>`, where mac is
// HMAC-SHA256 over the file id, its content's SHA-256, the expiry and the file's link generation. No login
// token travels in a link; any replica holding the key checks it; the content binding makes a link die
// with its content, and revoking (next generation, in the database) kills every earlier link.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface LinkClaims {
  fileId: string;
  sha256: string;
  /** Expiry, seconds since the epoch. */
  expires: number;
  generation: number;
  /**
   * A share link's download (issue 18): the URL works only while that share answers, which the download
   * worker asks meta on every request (each Range GET too). Signed with the rest, so it cannot be dropped.
   */
  shareId?: string;
}

/** What a folder ZIP's link signs in place of a file's content: the folder's owner (folder-zip.ts). */
export const zipClaim = (ownerId: string) => `zip:${ownerId}`;

/** What the query string of a link says (not yet checked). */
export interface LinkParams {
  expires: number;
  generation: number;
  sig: string;
  shareId?: string;
}

export type LinkVerdict = "valid" | "invalid" | "expired" | "revoked";

/** The link key: DOWNLOAD_LINK_SECRET when set, else derived from the internal secret every replica shares. */
export function linkKeyFrom(secret: string): Uint8Array {
  return createHmac("sha256", secret).update("filestore/download-link/v1").digest();
}

/** The text a link's MAC is over. v2 adds the share id; a v1 text never equals a v2 one, so neither passes for the other. */
function signedText(c: LinkClaims): string {
  const text = `${c.fileId}\n${c.sha256}\n${c.expires}\n${c.generation}`;
  return c.shareId === undefined ? `v1\n${text}` : `v2\n${text}\n${c.shareId}`;
}

const mac = (key: Uint8Array, c: LinkClaims) => macOf(key, signedText(c));
const macOf = (key: Uint8Array, text: string) => createHmac("sha256", key).update(text).digest("base64url");

/**
 * Signatures already found valid, each with the text it was found valid for: the range requests of one
 * URL then cost a string comparison instead of an HMAC. Only a signature checked against the very same
 * text counts, so nothing passes that the HMAC would refuse; bounded (emptied when full).
 */
export class VerifiedLinks {
  private readonly texts = new Map<string, string>();
  constructor(private readonly max = 4096) {}
  holds(sig: string, text: string): boolean {
    return this.texts.get(sig) === text;
  }
  add(sig: string, text: string): void {
    if (this.texts.size >= this.max) this.texts.clear();
    this.texts.set(sig, text);
  }
}

/** The query string of a link (without "?"). */
export function linkQuery(key: Uint8Array, c: LinkClaims): string {
  const share = c.shareId === undefined ? "" : `&share=${c.shareId}`;
  return `expires=${c.expires}&gen=${c.generation}${share}&sig=${mac(key, c)}`;
}

/** The link parameters of a query, or undefined when one is missing or malformed. */
export function linkParams(query: URLSearchParams): LinkParams | undefined {
  const expires = query.get("expires") ?? "";
  const gen = query.get("gen") ?? "";
  const sig = query.get("sig") ?? "";
  const share = query.get("share");
  if (!/^\d{1,12}$/.test(expires) || !/^\d{1,15}$/.test(gen) || !/^[A-Za-z0-9_-]{43}$/.test(sig))
    return undefined;
  if (share !== null && !/^[A-Za-z0-9_-]{22,64}$/.test(share)) return undefined;
  return {
    expires: Number(expires),
    generation: Number(gen),
    sig,
    ...(share === null ? {} : { shareId: share }),
  };
}

/**
 * Checks a link against the file as it is now. The signature is compared as text, not as decoded bytes:
 * base64url's last character carries spare bits, and a changed character must never pass.
 */
export function checkLink(
  key: Uint8Array,
  current: { fileId: string; sha256: string; generation: number },
  given: LinkParams,
  nowMs: number,
  verified?: VerifiedLinks,
): LinkVerdict {
  const text = signedText({
    ...current,
    expires: given.expires,
    generation: given.generation,
    shareId: given.shareId,
  });
  if (!verified?.holds(given.sig, text)) {
    const expected = Buffer.from(macOf(key, text));
    const sig = Buffer.from(given.sig);
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return "invalid";
    verified?.add(given.sig, text);
  }
  if (given.expires * 1000 <= nowMs) return "expired";
  if (given.generation !== current.generation) return "revoked";
  return "valid";
}
