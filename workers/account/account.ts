// Account logic: plain functions over injected dependencies (meta client, key, limiter, clock).
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_AUDIENCE, type Identity } from "../../core/access-token.ts";
import type { ExpiringCache } from "../../core/cache.ts";
import {
  type GetUserInfoResponse,
  GetUserInfoResponseSchema,
  type ListRevokedSessionsResponse,
  ListRevokedSessionsResponseSchema,
  type TokenPair,
  type User,
} from "../../proto/gen/filestore/account/v1/account_pb.ts";
import type { UserRecord } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import { invalidArgument, unauthenticated } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { RateLimiter } from "../lib/ratelimit.ts";
import type { SigningKey } from "./keys.ts";
import { type SigninLimit, signinGate } from "./signin-limits.ts";

/** 3-64 characters: letters, digits, ".", "_", "-"; starting with a letter or digit. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

export interface AccountDeps {
  meta: MetaClient;
  key: SigningKey;
  limiter: RateLimiter;
  issuer: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  signinLimit: SigninLimit;
  /** Lockouts (one JSON line each). */
  log: Logger;
  now: () => number;
  /**
   * GetUserInfo answers kept for up to USER_CACHE_MS (UIs ask often). The same response object is
   * returned while cached, so the RPC layer encodes it once (see FastUnary).
   */
  userCache?: ExpiringCache<string, GetUserInfoResponse>;
}

/** How stale GetUserInfo may be; an access token outlives a deleted account far longer anyway. */
export const USER_CACHE_MS = 1000;

export function validateUsername(username: string): string {
  if (!USERNAME_PATTERN.test(username)) {
    throw invalidArgument(
      'username must be 3-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return username;
}

export function validatePassword(password: string): string {
  const n = [...password].length;
  if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
    throw invalidArgument(`password must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters long`);
  }
  return password;
}

export const hashPassword = (password: string) => Bun.password.hash(password, { algorithm: "argon2id" });

// Unknown users are checked against this hash too, so both failures take the same time.
let decoy: Promise<string> | undefined;
const decoyHash = () => {
  decoy ??= hashPassword(crypto.randomUUID());
  return decoy;
};

export function toUser(u: UserRecord): User {
  return {
    $typeName: "filestore.account.v1.User",
    id: u.id,
    username: u.username,
    createdAt: u.createdAt,
    lastActiveAt: u.lastActiveAt,
  };
}

const sha256Hex = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

function newRefreshToken(): string {
  return `fsr_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
}

/**
 * Access tokens name their sign-in session (`sid`: the refresh-token family) so that ending the session
 * (Signout, replay detection) refuses them everywhere within seconds (core/revoked-sessions.ts).
 */
async function issueAccessToken(
  deps: AccountDeps,
  user: { id: string; username: string },
  now: number,
  sessionId: string,
) {
  const exp = Math.floor(now / 1000) + deps.accessTtlSeconds;
  const token = await new SignJWT({ typ: "access", name: user.username, sid: sessionId })
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
const revocationExpiresAt = (deps: AccountDeps, now: number) =>
  timestampFromMs(now + deps.accessTtlSeconds * 1000 + REVOCATION_MARGIN_MS);

function pair(access: { token: string; expMs: number }, refresh: string, refreshExpMs: number): TokenPair {
  return {
    $typeName: "filestore.account.v1.TokenPair",
    accessToken: access.token,
    accessTokenExpiresAt: timestampFromMs(access.expMs),
    refreshToken: refresh,
    refreshTokenExpiresAt: timestampFromMs(refreshExpMs),
    tokenType: "Bearer",
  };
}

export async function signup(deps: AccountDeps, username: string, password: string): Promise<User> {
  validateUsername(username);
  validatePassword(password);
  const res = await deps.meta.createUser({ username, passwordHash: await hashPassword(password) });
  if (!res.user) throw new ConnectError("meta returned no user", Code.Internal);
  return toUser(res.user);
}

const SIGNIN_FAILED = "wrong username or password";

export async function signin(
  deps: AccountDeps,
  username: string,
  password: string,
  clientIp: string,
): Promise<{ user: User; tokens: TokenPair }> {
  const gate = await signinGate(deps.limiter, deps.signinLimit, deps.log, username, clientIp);
  let record: UserRecord | undefined;
  if (USERNAME_PATTERN.test(username) && password.length <= PASSWORD_MAX * 4) {
    try {
      record = (await deps.meta.getUser({ key: { case: "username", value: username } })).user;
    } catch (err) {
      if (ConnectError.from(err).code !== Code.NotFound) throw err;
    }
  }
  const ok = await Bun.password.verify(
    password.slice(0, PASSWORD_MAX * 4),
    record?.passwordHash ?? (await decoyHash()),
  );
  if (!ok || !record) {
    await gate.failed(record);
    throw unauthenticated(SIGNIN_FAILED);
  }
  await gate.succeeded();
  const now = deps.now();
  const refresh = newRefreshToken();
  const refreshExp = now + deps.refreshTtlSeconds * 1000;
  const sessionId = crypto.randomUUID();
  const [access] = await Promise.all([
    issueAccessToken(deps, record, now, sessionId),
    deps.meta.createRefreshToken({
      userId: record.id,
      tokenHash: sha256Hex(refresh),
      expiresAt: timestampFromMs(refreshExp),
      sessionId,
    }),
    deps.meta.touchUser({ id: record.id }),
  ]);
  return {
    user: toUser({ ...record, lastActiveAt: timestampFromMs(now) }),
    tokens: pair(access, refresh, refreshExp),
  };
}

function checkRefreshShape(token: string): string {
  if (!/^fsr_[A-Za-z0-9_-]{43}$/.test(token)) throw unauthenticated("refresh token is invalid or expired");
  return token;
}

export async function refresh(deps: AccountDeps, refreshToken: string): Promise<TokenPair> {
  checkRefreshShape(refreshToken);
  const now = deps.now();
  const next = newRefreshToken();
  const nextExp = now + deps.refreshTtlSeconds * 1000;
  const { userId, sessionId } = await deps.meta.rotateRefreshToken({
    tokenHash: sha256Hex(refreshToken),
    newTokenHash: sha256Hex(next),
    newExpiresAt: timestampFromMs(nextExp),
    revocationExpiresAt: revocationExpiresAt(deps, now),
  });
  const user = (await deps.meta.getUser({ key: { case: "id", value: userId } })).user;
  if (!user) throw unauthenticated("refresh token is invalid or expired");
  const [access] = await Promise.all([
    issueAccessToken(deps, user, now, sessionId),
    deps.meta.touchUser({ id: userId }),
  ]);
  return pair(access, next, nextExp);
}

export async function signout(deps: AccountDeps, refreshToken: string): Promise<void> {
  checkRefreshShape(refreshToken);
  const { revoked } = await deps.meta.revokeRefreshToken({
    tokenHash: sha256Hex(refreshToken),
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  if (!revoked) throw unauthenticated("refresh token is invalid or expired");
}

/** The sessions ended at or after `since` (0: all) whose access tokens may still be unexpired. */
export async function listRevokedSessions(
  deps: AccountDeps,
  since: Timestamp | undefined,
): Promise<ListRevokedSessionsResponse> {
  const res = await deps.meta.listRevokedSessions({ since });
  return create(ListRevokedSessionsResponseSchema, {
    sessions: res.sessions.map((s) => ({ sessionId: s.sessionId, expiresAt: s.expiresAt })),
    now: res.now,
  });
}

export async function userInfo(deps: AccountDeps, who: Identity): Promise<GetUserInfoResponse> {
  const cached = deps.userCache?.get(who.userId);
  if (cached) return cached;
  try {
    const { user } = await deps.meta.getUser({ key: { case: "id", value: who.userId } });
    if (user) {
      const out = create(GetUserInfoResponseSchema, { user: toUser(user) });
      deps.userCache?.set(who.userId, out, deps.now() + USER_CACHE_MS);
      return out;
    }
  } catch (err) {
    if (ConnectError.from(err).code !== Code.NotFound) throw err;
  }
  throw unauthenticated("the account of this token no longer exists");
}
