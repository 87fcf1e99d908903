// The reasons of the errors a caller branches on, listed once. A reason travels as a standard
// google.rpc.ErrorInfo detail (domain "filestore") on the ConnectError, so it crosses every hop unchanged
// (worker → worker → gateway) and reaches any client: Connect JSON lists it in "details", gRPC in
// grpc-status-details-bin, the data planes' JSON errors in "details" too. Callers read it with reasonOf,
// never from the message text. Web-standard: the gateway uses it too.
import { type Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../proto/gen/google/rpc/error_details_pb.ts";

export const ERROR_DOMAIN = "filestore";

export const Reason = {
  /** The server's own storage is full (not the caller's quota): 507 on the data planes. */
  STORAGE_FULL: "STORAGE_FULL",
  /** The caller has as many upload sessions open as allowed. */
  TOO_MANY_UPLOADS: "TOO_MANY_UPLOADS",
  /**
   * A part of an upload session did not verify: its hash or size is not the one expected, or the hash
   * sent to check it is malformed. Sending the part again may help; the request as such was right.
   */
  PART_MISMATCH: "PART_MISMATCH",
  /**
   * The target folder already holds an active entry of that name and the conflict policy was FAIL
   * (AlreadyExists / 409; metadata "name": the taken name). Retry with on_conflict rename or replace.
   */
  NAME_TAKEN: "NAME_TAKEN",
  /**
   * Signin of an account with two-factor sign-in on: the password was right but the second factor is
   * missing or wrong (Unauthenticated). Ask for a TOTP or recovery code and send all three again.
   */
  SECOND_FACTOR_REQUIRED: "SECOND_FACTOR_REQUIRED",
  /**
   * The caller's quota has no room for this (ResourceExhausted; 507 on the data planes and tus; metadata
   * "used", "quota", "needed" in bytes). Free space (delete, empty the trash, drop versions) or ask an
   * administrator for a larger quota; retrying as it is will not help.
   */
  QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
  /** Signup under SIGNUP=invite without a valid unused invite code (PermissionDenied). */
  INVITE_REQUIRED: "INVITE_REQUIRED",
  /** Signup under SIGNUP=closed: only an administrator can create accounts (PermissionDenied). */
  SIGNUP_CLOSED: "SIGNUP_CLOSED",
  /** The account was disabled by an administrator (PermissionDenied): signin and tokens are refused. */
  ACCOUNT_DISABLED: "ACCOUNT_DISABLED",
  /**
   * Signin with a password an administrator set (FailedPrecondition): the password was right, but the
   * user must choose a new one. Send the signin again with new_password.
   */
  PASSWORD_CHANGE_REQUIRED: "PASSWORD_CHANGE_REQUIRED",
  /**
   * A refresh token presented again after it was used (Unauthenticated): someone replayed it, and every
   * session of that sign-in is now revoked. Sign in again.
   */
  REFRESH_TOKEN_REPLAYED: "REFRESH_TOKEN_REPLAYED",
  /**
   * Sharing (issue 18): no share link answers here (NotFound on ShareService; PermissionDenied on a
   * share's download URL). An unknown id, a wrong or missing password, a revoked or expired link and a
   * target that is gone all look alike: ask the owner for the link (and its password) again.
   */
  SHARE_NOT_FOUND: "SHARE_NOT_FOUND",
  /** The share link has no downloads left (ResourceExhausted); only its owner can raise the limit. */
  SHARE_LIMIT_REACHED: "SHARE_LIMIT_REACHED",
  /**
   * The share token is malformed, expired, for another link, or from before the link's password or
   * options changed (Unauthenticated): call OpenShare again (with the password).
   */
  SHARE_TOKEN_INVALID: "SHARE_TOKEN_INVALID",
  /**
   * Too many attempts (ResourceExhausted; metadata "retry_after_seconds"): share-password guesses per
   * link or per client address. Wait, then try again.
   */
  TOO_MANY_ATTEMPTS: "TOO_MANY_ATTEMPTS",
  /**
   * A WebDAV lock of the owner conflicts with the one asked for (FailedPrecondition; 423 Locked in
   * WebDAV): wait for it to be unlocked or to expire.
   */
  LOCK_CONFLICT: "LOCK_CONFLICT",
  /**
   * The folder holds more entries than a ZIP download may hold (ResourceExhausted; metadata
   * "max_entries"): its ZIP can never be built (a share link's download is not counted). Download its
   * subfolders one by one; retrying will not help.
   */
  ZIP_TOO_LARGE: "ZIP_TOO_LARGE",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const known = new Set<string>(Object.values(Reason));

/** Adds `reason` (and optional metadata) to `err` as an ErrorInfo detail; returns `err`. */
export function withReason(err: ConnectError, reason: Reason, metadata: Record<string, string> = {}) {
  err.details.push({ desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN, metadata } });
  return err;
}

/** A ConnectError with a reason. */
export const reasonError = (message: string, code: Code, reason: Reason, metadata?: Record<string, string>) =>
  withReason(new ConnectError(message, code), reason, metadata);

/**
 * The filestore reason `err` carries (from this process or decoded from a service's answer), or undefined:
 * no ConnectError, no ErrorInfo of our domain, or a reason this build does not know.
 */
export function reasonOf(err: unknown): Reason | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  for (const info of err.findDetails(ErrorInfoSchema)) {
    if (info.domain === ERROR_DOMAIN && known.has(info.reason)) return info.reason as Reason;
  }
  return undefined;
}
