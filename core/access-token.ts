// Verification of access tokens (EdDSA JWTs issued by the account service).
// Web-standard only (jose + fetch): the edge gateway imports this module too.
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { ExpiringCache } from "./cache.ts";

export interface Identity {
  userId: string;
  username: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /**
   * The sign-in session (refresh-token family) the token belongs to: its `sid` claim. Tokens issued before
   * sessions were named have none; they cannot be revoked and are accepted until they expire.
   */
  sid?: string;
  /**
   * "app": the token was exchanged for an app password (its `sid` is the app password's id); such tokens
   * reach files but never account settings. Unset: a full sign-in.
   */
  scope?: "app";
}

export const ACCESS_TOKEN_ALG = "EdDSA";
export const ACCESS_TOKEN_AUDIENCE = "filestore";
export const JWKS_PATH = "/.well-known/jwks.json";

export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<Identity>;
  /** The identity of a token verified before and not expired, without waiting (hot paths); else undefined. */
  cached?(token: string): Identity | undefined;
}

export interface VerifierOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  /** Verified tokens kept in memory; signature checks cost ~100 µs each. */
  cacheSize?: number;
  now?: () => number;
  /** Sessions whose tokens are refused although they verify (see revoked-sessions.ts). */
  revoked?: { has(sid: string): boolean };
}

const REVOKED =
  "access token revoked: its session ended (signed out, or its refresh token was reused); sign in again";

export function createAccessTokenVerifier(opts: VerifierOptions): AccessTokenVerifier {
  const now = opts.now ?? Date.now;
  // Keyed by the full token string: a hit means these exact bytes were verified before, so only the
  // expiry (the entry's lifetime) remains to check.
  const cache = new ExpiringCache<string, Identity>(opts.cacheSize ?? 10_000, now);
  const revoked = opts.revoked;
  // The cache keeps revoked tokens: the check below runs on every use, hit or not.
  const isRevoked = (who: Identity) => who.sid !== undefined && revoked?.has(who.sid) === true;
  return {
    cached(token) {
      const hit = cache.get(token);
      return hit === undefined || isRevoked(hit) ? undefined : hit;
    },
    async verify(token) {
      const hit = cache.get(token);
      if (hit) {
        if (isRevoked(hit)) throw new InvalidTokenError(REVOKED);
        return hit;
      }
      if (token.length > 4096 || token.split(".").length !== 3)
        throw new InvalidTokenError("malformed access token");
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, opts.keys, {
          algorithms: [ACCESS_TOKEN_ALG],
          issuer: opts.issuer,
          audience: ACCESS_TOKEN_AUDIENCE,
          currentDate: new Date(now()),
          requiredClaims: ["sub", "exp", "iat"],
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new InvalidTokenError("access token expired");
        if (err instanceof errors.JOSEError) throw new InvalidTokenError("invalid access token");
        throw err;
      }
      if (payload.typ !== "access" || typeof payload.sub !== "string" || typeof payload.name !== "string") {
        throw new InvalidTokenError("invalid access token");
      }
      const identity: Identity = {
        userId: payload.sub,
        username: payload.name,
        exp: payload.exp as number,
        sid: typeof payload.sid === "string" ? payload.sid : undefined,
      };
      // Any scope claim this build does not know narrows like "app" does: never widen on a surprise.
      if (payload.scope !== undefined) identity.scope = "app";
      cache.set(token, identity, identity.exp * 1000);
      if (isRevoked(identity)) throw new InvalidTokenError(REVOKED);
      return identity;
    },
  };
}

/** JWKS fetched from the account service (cached by jose, refetched on an unknown kid). */
export function remoteKeys(
  accountUrl: string,
  fetchImpl?: (req: Request) => Promise<Response>,
): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(JWKS_PATH, accountUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
    // In the all-in-one mode the account service answers in process.
    ...(fetchImpl
      ? { [customFetch]: (url: string, init: RequestInit) => fetchImpl(new Request(url, init)) }
      : {}),
  });
}

/** The bearer token of an Authorization header, or undefined. */
export function bearer(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9\-_.]+)\s*$/i.exec(header);
  return m?.[1];
}

/** The access token a data-plane request carries: Authorization: Bearer, or a `token` query parameter. */
export const tokenOf = (req: Request, url: URL | string): string | undefined =>
  bearer(req.headers.get("authorization")) ??
  (typeof url === "string" ? new URL(url) : url).searchParams.get("token") ??
  undefined;
