// Share access tokens (the file worker signs them at OpenShare; the file and upload workers check them): HS256 JWTs (jose) under a key derived from the internal secret (as download links'
// key is), so every file-worker replica checks them. Claims: the share id (sub) and the link's version
// (ver), which moves on every change of password or options; a short life. A token proves only that its
// holder opened that link (with its password) lately: every call still re-checks the link in meta.
import { createHmac } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";

const AUDIENCE = "filestore/share";

export interface ShareTokenClaims {
  shareId: string;
  version: number;
}

export const shareTokenKeyFrom = (secret: string): Uint8Array =>
  createHmac("sha256", secret).update("filestore/share-token/v1").digest();

/** A token for the link, valid until `expiresMs` (epoch ms, rounded down to a second). */
export function signShareToken(key: Uint8Array, c: ShareTokenClaims, expiresMs: number): Promise<string> {
  return new SignJWT({ ver: c.version })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(c.shareId)
    .setAudience(AUDIENCE)
    .setExpirationTime(Math.floor(expiresMs / 1000))
    .sign(key);
}

/**
 * The claims of a valid token, or undefined (malformed, forged, expired or not a share token). `graceMs`:
 * how long after its expiry a token still counts (a drop session's calls: the guest also proves the
 * session's key, and the link is checked all the same).
 */
export async function verifyShareToken(
  key: Uint8Array,
  token: string,
  nowMs: number,
  graceMs = 0,
): Promise<ShareTokenClaims | undefined> {
  if (!token || token.length > 2048) return undefined;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      audience: AUDIENCE,
      currentDate: new Date(nowMs),
      clockTolerance: Math.floor(graceMs / 1000),
      requiredClaims: ["sub", "exp"],
    });
    if (typeof payload.sub !== "string" || typeof payload.ver !== "number") return undefined;
    return { shareId: payload.sub, version: payload.ver };
  } catch {
    return undefined;
  }
}
