// Account logic: plain functions over injected dependencies (meta client, key, limiter, clock).

import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import type { ExpiringCache } from "../../core/cache.ts";
import { Reason, reasonError, reasonOf } from "../../core/reasons.ts";
import {
  type GetUserInfoResponse,
  GetUserInfoResponseSchema,
  type ListRevokedSessionsResponse,
  ListRevokedSessionsResponseSchema,
  type TokenPair,
  type User,
} from "../../proto/gen/filestore/account/v1/account_pb.ts";
import type { CheckIntegrityResponse } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { TotpState } from "../../proto/gen/filestore/meta/v1/credentials_pb.ts";
import type { UserRecord } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import type { Publishers } from "../lib/bus/events.ts";
import { invalidArgument, unauthenticated } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { type AuthMetrics, signinResultOf } from "../lib/metrics/auth.ts";
import type { RateLimiter } from "../lib/ratelimit.ts";
import { applyNamedAdmin, isNamedAdmin, refuseDisabled } from "./account-state.ts";
import type { SignupMode } from "./config.ts";
import type { SigningKey } from "./keys.ts";
import { secondFactorRequired, useSecondFactor } from "./second-factor.ts";
import { type SigninLimit, signinGate } from "./signin-limits.ts";
import { issueAccessToken, newRefreshToken, pair, revocationExpiresAt, sha256Hex } from "./tokens.ts";

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
  /** The issuer authenticator apps show for TOTP entries (TOTP_ISSUER; default "filestore"). */
  totpIssuer?: string;
  /** SIGNUP (default "open"). */
  signup?: SignupMode;
  /** ADMIN_USERS, lower-cased: administrators whatever the database says (see admin-access.ts). */
  adminUsers?: ReadonlySet<string>;
  /** Signins by result, rate-limited attempts, refresh replays (workers/lib/metrics/auth.ts). */
  metrics?: AuthMetrics;
  /**
   * The file worker's FileAdminService.CheckIntegrity (the blob stores are there), which AdminService's
   * CheckIntegrity streams on to an administrator; absent: Unavailable.
   */
  checkIntegrity?: CheckIntegrity;
  /**
   * Tells the other workers that a user's links stopped (disabled or deleted): download replicas drop the
   * share answers they keep (workers/download/share-liveness.ts). Absent in most tests.
   */
  events?: Pick<Publishers, "linkRevoked">;
}

/** Every link of the user stops: told on the bus (see AccountDeps.events). */
export const ownerLinksStopped = async (deps: AccountDeps, userId: string) =>
  deps.events?.linkRevoked({ kind: "owner", id: userId, ownerId: userId });

/** FileAdminService.CheckIntegrity as a client calls it. */
export type CheckIntegrity = (
  req: { repair: boolean; scrub: boolean; scrubBytesPerHour: bigint },
  signal: AbortSignal,
) => AsyncIterable<CheckIntegrityResponse>;

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
    admin: u.admin,
  };
}

/**
 * Creates an account under the signup policy: SIGNUP=closed refuses (SIGNUP_CLOSED), SIGNUP=invite needs
 * an unused, unexpired invite code (INVITE_REQUIRED), consumed in the transaction that creates the user.
 * Users named in ADMIN_USERS may sign up whatever the policy (how an operator bootstraps a closed
 * instance) and are administrators from the start; the first user of an empty instance becomes one too.
 */
export async function signup(
  deps: AccountDeps,
  username: string,
  password: string,
  inviteCode = "",
): Promise<User> {
  validateUsername(username);
  validatePassword(password);
  const named = isNamedAdmin(deps, username);
  const policy = named ? "open" : (deps.signup ?? "open");
  if (policy === "closed")
    throw reasonError(
      "signup is closed on this server: ask an administrator to create your account",
      Code.PermissionDenied,
      Reason.SIGNUP_CLOSED,
    );
  const code = inviteCode.trim();
  if (policy === "invite" && !code)
    throw reasonError(
      "signup on this server needs an invite code from an administrator",
      Code.PermissionDenied,
      Reason.INVITE_REQUIRED,
    );
  const res = await deps.meta.createUser({
    username,
    passwordHash: await hashPassword(password),
    admin: named,
    inviteCodeHash: policy === "invite" ? sha256Hex(code) : "",
  });
  if (!res.user) throw new ConnectError("meta returned no user", Code.Internal);
  return toUser(res.user);
}

const SIGNIN_FAILED = "wrong username or password";

/** Who is calling: the client address (rate limits, the list of sessions) and its user agent. */
export interface Caller {
  clientIp: string;
  userAgent: string;
}

/** The account's password hash when a password can match it (not while the account is being deleted). */
const usableHash = (record: UserRecord | undefined) =>
  record?.passwordHash.startsWith("$") ? record.passwordHash : undefined;

/**
 * Checks the password (and, with two-factor on and opts.secondFactor, the second factor) of `username`
 * under the sign-in limits; the user on success. Failures of either factor count toward the limits.
 */
export async function authenticate(
  deps: AccountDeps,
  creds: { username: string; password: string; secondFactor: string },
  clientIp: string,
  opts: { secondFactor: boolean } = { secondFactor: true },
): Promise<UserRecord> {
  const { username, password } = creds;
  const gate = await signinGate(deps.limiter, deps.signinLimit, deps.log, username, clientIp).catch((err) => {
    if (ConnectError.from(err).code === Code.ResourceExhausted) deps.metrics?.rateLimited("signin");
    throw err;
  });
  let record: UserRecord | undefined;
  if (USERNAME_PATTERN.test(username) && password.length <= PASSWORD_MAX * 4) {
    try {
      record = (await deps.meta.getUser({ key: { case: "username", value: username } })).user;
    } catch (err) {
      if (ConnectError.from(err).code !== Code.NotFound) throw err;
    }
  }
  const hash = usableHash(record);
  const ok = await Bun.password.verify(password.slice(0, PASSWORD_MAX * 4), hash ?? (await decoyHash()));
  if (!ok || !record || !hash) {
    await gate.failed(record);
    throw unauthenticated(SIGNIN_FAILED);
  }
  const totp = opts.secondFactor ? await deps.meta.getTotp({ userId: record.id }) : undefined;
  if (totp?.state === TotpState.ON) {
    // Not a failure yet (the attempt itself was counted): the client asks for the code and comes back.
    if (!creds.secondFactor)
      throw secondFactorRequired(
        "this account uses two-factor sign-in: enter a code from your authenticator app",
      );
    if (
      !(await useSecondFactor(
        deps.meta,
        { id: record.id, secret: totp.secret },
        creds.secondFactor,
        deps.now(),
      ))
    ) {
      await gate.failed(record);
      throw secondFactorRequired("wrong or already used two-factor code; enter the current one");
    }
  }
  await gate.succeeded();
  return record;
}

/**
 * Signs in with the password, and the second factor when the account has two-factor on. Once those check
 * out: a disabled account is refused (ACCOUNT_DISABLED), and a password an administrator set must be
 * replaced (PASSWORD_CHANGE_REQUIRED until `newPassword` comes along; then it is set and signin goes on).
 */
export async function signin(
  deps: AccountDeps,
  username: string,
  password: string,
  clientIp: string,
  more: { secondFactor?: string; userAgent?: string; newPassword?: string } = {},
): Promise<{ user: User; tokens: TokenPair }> {
  const creds = { username, password, secondFactor: more.secondFactor ?? "" };
  let record: Awaited<ReturnType<typeof authenticate>>;
  try {
    record = await authenticate(deps, creds, clientIp);
    refuseDisabled(record);
    if (record.mustChangePassword)
      record = await replaceSetPassword(deps, record, password, more.newPassword);
    record = await applyNamedAdmin(deps, record);
  } catch (err) {
    deps.metrics?.signin(signinResultOf(err));
    throw err;
  }
  deps.metrics?.signin("ok");
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
      clientAddress: clientIp,
      userAgent: more.userAgent ?? "",
    }),
    deps.meta.touchUser({ id: record.id }),
  ]);
  return {
    user: toUser({ ...record, lastActiveAt: timestampFromMs(now) }),
    tokens: pair(access, refresh, refreshExp),
  };
}

/** The signin of an account whose password an administrator set: the user's new password replaces it. */
async function replaceSetPassword(
  deps: AccountDeps,
  record: UserRecord,
  password: string,
  newPassword = "",
): Promise<UserRecord> {
  if (!newPassword)
    throw reasonError(
      "an administrator set this account's password: choose a new password to sign in",
      Code.FailedPrecondition,
      Reason.PASSWORD_CHANGE_REQUIRED,
    );
  validatePassword(newPassword);
  if (newPassword === password)
    throw invalidArgument("choose a new password different from the one the administrator set");
  const passwordHash = await hashPassword(newPassword);
  // Clears must_change_password; no session of the account is live (the reset ended them all).
  await deps.meta.setPasswordHash({
    userId: record.id,
    passwordHash,
    expectedPasswordHash: record.passwordHash,
    keepSessionId: "",
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  return { ...record, passwordHash, mustChangePassword: false };
}

function checkRefreshShape(token: string): string {
  if (!/^fsr_[A-Za-z0-9_-]{43}$/.test(token)) throw unauthenticated("refresh token is invalid or expired");
  return token;
}

export async function refresh(deps: AccountDeps, refreshToken: string, caller: Caller): Promise<TokenPair> {
  checkRefreshShape(refreshToken);
  const now = deps.now();
  const next = newRefreshToken();
  const nextExp = now + deps.refreshTtlSeconds * 1000;
  const { userId, sessionId } = await deps.meta
    .rotateRefreshToken({
      tokenHash: sha256Hex(refreshToken),
      newTokenHash: sha256Hex(next),
      newExpiresAt: timestampFromMs(nextExp),
      revocationExpiresAt: revocationExpiresAt(deps, now),
      clientAddress: caller.clientIp,
      userAgent: caller.userAgent,
    })
    .catch((err) => {
      if (reasonOf(err) === Reason.REFRESH_TOKEN_REPLAYED) deps.metrics?.refreshReplay();
      throw err;
    });
  const user = (await deps.meta.getUser({ key: { case: "id", value: userId } })).user;
  if (!user) throw unauthenticated("refresh token is invalid or expired");
  refuseDisabled(user);
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
