// Account self-service: the password, the sessions, two-factor sign-in and deleting the account. Only a
// full sign-in may use these (requireOwnSignin): a token exchanged for an app password is refused.
// Whatever checks the password or a code goes through the sign-in limits (authenticate), and answers
// PermissionDenied when it is wrong: Unauthenticated would tell a client its token is bad.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonError, reasonOf } from "../../core/reasons.ts";
import {
  type ListSessionsResponse,
  ListSessionsResponseSchema,
} from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { TotpState } from "../../proto/gen/filestore/meta/v1/credentials_pb.ts";
import type { UserRecord } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import { failedPrecondition, invalidArgument, notFound, permissionDenied } from "../lib/errors.ts";
import {
  type AccountDeps,
  authenticate,
  hashPassword,
  ownerLinksStopped,
  validatePassword,
} from "./account.ts";
import { newRecoveryCodes, newTotpSecret, totpStep } from "./second-factor.ts";
import { revocationExpiresAt } from "./tokens.ts";

/** The caller, unless their token came from an app password: those never change account settings. */
export function requireOwnSignin(who: Identity): Identity {
  if (who.scope === "app")
    throw permissionDenied("an app password cannot change account settings; sign in with your password");
  return who;
}

/**
 * The password (and with `secondFactor` given, the second factor when two-factor is on) of the caller,
 * under the sign-in limits; their record.
 */
async function confirm(
  deps: AccountDeps,
  who: Identity,
  clientIp: string,
  password: string,
  secondFactor?: string,
): Promise<UserRecord> {
  try {
    const creds = { username: who.username, password, secondFactor: secondFactor ?? "" };
    const record = await authenticate(deps, creds, clientIp, { secondFactor: secondFactor !== undefined });
    if (record.id !== who.userId) throw permissionDenied("wrong password");
    return record;
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code !== Code.Unauthenticated) throw e;
    if (reasonOf(e) === Reason.SECOND_FACTOR_REQUIRED)
      throw reasonError(e.rawMessage, Code.PermissionDenied, Reason.SECOND_FACTOR_REQUIRED);
    throw permissionDenied("wrong password");
  }
}

export async function changePassword(
  deps: AccountDeps,
  who: Identity,
  clientIp: string,
  current: string,
  next: string,
): Promise<number> {
  validatePassword(next);
  const record = await confirm(deps, who, clientIp, current);
  const { sessionsRevoked } = await deps.meta.setPasswordHash({
    userId: who.userId,
    passwordHash: await hashPassword(next),
    expectedPasswordHash: record.passwordHash,
    keepSessionId: who.sid ?? "",
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  return sessionsRevoked;
}

export async function listSessions(deps: AccountDeps, who: Identity): Promise<ListSessionsResponse> {
  const { sessions } = await deps.meta.listUserSessions({ userId: who.userId });
  return create(ListSessionsResponseSchema, {
    sessions: sessions.map((s) => ({
      id: s.sessionId,
      createdAt: s.createdAt,
      lastUsedAt: s.lastUsedAt,
      clientAddress: s.clientAddress,
      userAgent: s.userAgent,
      current: s.sessionId === who.sid,
    })),
  });
}

export async function revokeSession(deps: AccountDeps, who: Identity, sessionId: string): Promise<void> {
  if (!sessionId) throw invalidArgument("session_id is required");
  const { revoked } = await deps.meta.revokeUserSession({
    userId: who.userId,
    sessionId,
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  if (!revoked) throw notFound("you have no such session (it may have ended already)");
}

export async function signOutEverywhere(
  deps: AccountDeps,
  who: Identity,
  keepCurrent: boolean,
): Promise<number> {
  const { sessionsRevoked } = await deps.meta.revokeUserSessions({
    userId: who.userId,
    keepSessionId: keepCurrent ? (who.sid ?? "") : "",
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  return sessionsRevoked;
}

export async function deleteAccount(
  deps: AccountDeps,
  who: Identity,
  clientIp: string,
  password: string,
  secondFactor: string,
): Promise<bigint> {
  const record = await confirm(deps, who, clientIp, password, secondFactor);
  // An administrator gives the role up first, under meta's guard: the last one cannot leave.
  if (record.admin) await deps.meta.setUserAdmin({ userId: who.userId, admin: false });
  const { filesDeleted } = await deps.meta.deleteAccount({
    userId: who.userId,
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  deps.userCache?.delete(who.userId);
  await ownerLinksStopped(deps, who.userId);
  return filesDeleted;
}

export async function twoFactorStatus(deps: AccountDeps, who: Identity) {
  const t = await deps.meta.getTotp({ userId: who.userId });
  const enabled = t.state === TotpState.ON;
  return { enabled, recoveryCodesLeft: enabled ? t.recoveryCodesLeft : 0 };
}

export async function beginTotp(deps: AccountDeps, who: Identity, clientIp: string, password: string) {
  await confirm(deps, who, clientIp, password);
  const { secret, uri } = newTotpSecret(deps.totpIssuer ?? "filestore", who.username);
  await deps.meta.setPendingTotp({ userId: who.userId, secret });
  return { otpauthUri: uri, secret };
}

export async function confirmTotp(deps: AccountDeps, who: Identity, code: string): Promise<string[]> {
  const t = await deps.meta.getTotp({ userId: who.userId });
  if (t.state !== TotpState.PENDING)
    throw failedPrecondition(
      t.state === TotpState.ON
        ? "two-factor sign-in is already on"
        : "no enrolment is pending: call BeginTotpEnrollment first",
    );
  const step = totpStep(t.secret, code.replace(/\s/g, ""), deps.now());
  if (step === undefined)
    throw invalidArgument(
      "that code does not match the new secret; check the authenticator's clock and try the current code",
    );
  const { codes, hashes } = newRecoveryCodes();
  await deps.meta.enableTotp({
    userId: who.userId,
    secret: t.secret,
    step: BigInt(step),
    recoveryCodeHashes: hashes,
  });
  return codes;
}

export async function disableTotp(
  deps: AccountDeps,
  who: Identity,
  clientIp: string,
  password: string,
  code: string,
): Promise<void> {
  const t = await deps.meta.getTotp({ userId: who.userId });
  if (t.state === TotpState.OFF) throw failedPrecondition("two-factor sign-in is not on");
  // A pending enrolment is dropped with the password alone: it never protected anything.
  if (t.state === TotpState.ON && !code) throw invalidArgument("code is required: a TOTP or recovery code");
  await confirm(deps, who, clientIp, password, t.state === TotpState.ON ? code : undefined);
  await deps.meta.disableTotp({ userId: who.userId });
}

/**
 * Ten new recovery codes in place of the old ones (shown once). Needs the password and a current TOTP
 * code: a recovery code is refused, so that one leaked recovery code cannot be turned into ten.
 */
export async function regenerateRecoveryCodes(
  deps: AccountDeps,
  who: Identity,
  clientIp: string,
  password: string,
  code: string,
): Promise<string[]> {
  const t = await deps.meta.getTotp({ userId: who.userId });
  if (t.state !== TotpState.ON) throw failedPrecondition("two-factor sign-in is not on");
  const typed = code.replace(/\s/g, "");
  if (!/^\d{6}$/.test(typed))
    throw invalidArgument("code must be a current 6-digit code from the authenticator (not a recovery code)");
  await confirm(deps, who, clientIp, password, typed);
  const { codes, hashes } = newRecoveryCodes();
  await deps.meta.replaceRecoveryCodes({ userId: who.userId, codeHashes: hashes });
  return codes;
}
