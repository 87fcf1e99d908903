// The tokens the account service issues: access JWTs naming their session, opaque refresh tokens (kept
// only as SHA-256 hashes), and how long a revocation must be enforced.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { SignJWT } from "jose";
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_AUDIENCE } from "../../core/access-token.ts";
import type { TokenPair } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import type { SigningKey } from "./keys.ts";

export const sha256Hex = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

/** `prefix` and 32 random bytes in base64url (43 characters). */
export const randomSecret = (prefix: string) =>
  `${prefix}${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;

export const newRefreshToken = () => randomSecret("fsr_");

export interface TokenDeps {
  key: SigningKey;
  issuer: string;
  accessTtlSeconds: number;
}

/**
 * Access tokens name their sign-in session (`sid`: the refresh-token family, or the app password) so that
 * ending it (Signout, replay detection, revoking an app password) refuses them everywhere within seconds
 * (core/revoked-sessions.ts). `scope: "app"` marks a token exchanged for an app password.
 */
export async function issueAccessToken(
  deps: TokenDeps,
  user: { id: string; username: string },
  now: number,
  sessionId: string,
  scope?: "app",
) {
  const exp = Math.floor(now / 1000) + deps.accessTtlSeconds;
  const token = await new SignJWT({
    typ: "access",
    name: user.username,
    sid: sessionId,
    ...(scope && { scope }),
  })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: deps.key.kid, typ: "JWT" })
    .setSubject(user.id)
    .setIssuer(deps.issuer)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(exp)
    .setJti(crypto.randomUUID())
    .sign(deps.key.privateKey);
  return { token, expMs: exp * 1000 };
}

/**
 * Until when a session revoked now must stay revoked: past the expiry of every access token issued for it
 * so far, with a margin for the clocks of account replicas and a refresh that was signing as it ended.
 */
const REVOCATION_MARGIN_MS = 60_000;
export const revocationExpiresAt = (deps: { accessTtlSeconds: number }, now: number) =>
  timestampFromMs(now + deps.accessTtlSeconds * 1000 + REVOCATION_MARGIN_MS);

export function pair(
  access: { token: string; expMs: number },
  refresh: string,
  refreshExpMs: number,
): TokenPair {
  return {
    $typeName: "filestore.account.v1.TokenPair",
    accessToken: access.token,
    accessTokenExpiresAt: timestampFromMs(access.expMs),
    refreshToken: refresh,
    refreshTokenExpiresAt: timestampFromMs(refreshExpMs),
    tokenType: "Bearer",
  };
}
