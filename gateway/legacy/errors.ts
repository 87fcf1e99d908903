// What each legacy route answers for an error, in one table (LEGACY_ERRORS): by the error's reason first
// (core/reasons.ts), else by its Connect code, else the route group's default. The routes only look the
// answer up and render it; none matches codes or message text of its own. The codes are the legacy API's
// (shared/LEGACY_API.md): the account routes' 1000x, the upload routes' negative ones.
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorFromJson } from "@connectrpc/connect/protocol-connect";
import type { Context } from "hono";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { LegacyCode, serverFailureMessage } from "./params.ts";

/**
 * A legacy route's answer to an error:
 * - a number: JSON `{code, msg}` with the error's message; `{code, msg}`: that JSON as it is;
 * - "token-invalid": JSON `{code: 10005, msg: "token invalid; sign in again"}`;
 * - "failure": the server failed: the group's `failure` code with what failed and the request id, or (for
 *   "throw") the gateway's own error answer (HTTP 500/503, for routes whose success is a bare array);
 * - "forbidden", "not-found", "bad-request": the route's own plain HTTP answer (403/404/400);
 * - "pass": the worker's answer as it came (a data-plane route).
 */
export type LegacyAnswer =
  | number
  | { code: number; msg: string }
  | "token-invalid"
  | "failure"
  | "forbidden"
  | "not-found"
  | "bad-request"
  | "pass";

export interface LegacyErrorRules {
  reasons?: Partial<Record<Reason, LegacyAnswer>>;
  codes?: Partial<Record<Code, LegacyAnswer>>;
  /** Any other error (default "failure"). */
  otherwise?: LegacyAnswer;
  /** The code of a "failure" answer, or "throw" for the gateway's error answer. */
  failure: number | "throw";
}

/** Codes that are the server's failure, not the request's (Connect maps them to a 5xx). */
const SERVER_FAILED = Object.values(Code).filter(
  (c): c is Code => typeof c === "number" && codeToHttpStatus(c) >= 500,
);
const each = (codes: Code[], answer: LegacyAnswer) =>
  Object.fromEntries(codes.map((c) => [c, answer])) as Partial<Record<Code, LegacyAnswer>>;

const TOKEN_INVALID = { [Code.Unauthenticated]: "token-invalid" } as const;

/**
 * The upload routes' code for "your quota is full" (reason QUOTA_EXCEEDED; the message says how full and
 * what the upload needs). The original had no quotas; -5 is the one negative code it left unused.
 */
export const QUOTA_EXCEEDED_CODE = -5;
const QUOTA = { [Reason.QUOTA_EXCEEDED]: QUOTA_EXCEEDED_CODE } as const;

/** The legacy answer to each error, per route group. */
export const LEGACY_ERRORS = {
  // 10003 with the worker's message: a taken name, signup closed (SIGNUP=closed), or no valid invite code
  // (SIGNUP=invite; the legacy form may carry one as `invite_code`).
  signup: {
    reasons: {
      [Reason.SIGNUP_CLOSED]: LegacyCode.signupFailed,
      [Reason.INVITE_REQUIRED]: LegacyCode.signupFailed,
    },
    codes: {
      [Code.InvalidArgument]: LegacyCode.invalidParams,
      [Code.AlreadyExists]: { code: LegacyCode.signupFailed, msg: "username is taken" },
    },
    failure: LegacyCode.serverError,
  },
  // Wrong credentials, or too many attempts (the message says which). An account with two-factor sign-in
  // cannot sign in here: the legacy form has no field for the code; nor can one whose password an
  // administrator reset (the new password is chosen on the web or with the CLI). A disabled account gets
  // 10004 with the worker's message saying so.
  signin: {
    reasons: {
      [Reason.SECOND_FACTOR_REQUIRED]: {
        code: LegacyCode.signinFailed,
        msg: "this account uses two-factor sign-in, which the legacy API cannot carry; sign in on the web or with the filestore CLI",
      },
      [Reason.PASSWORD_CHANGE_REQUIRED]: {
        code: LegacyCode.signinFailed,
        msg: "an administrator reset this account's password: choose a new one by signing in on the web or with the filestore CLI",
      },
      [Reason.ACCOUNT_DISABLED]: LegacyCode.signinFailed,
    },
    codes: {
      [Code.Unauthenticated]: LegacyCode.signinFailed,
      [Code.ResourceExhausted]: LegacyCode.signinFailed,
    },
    failure: LegacyCode.serverError,
  },
  info: { codes: TOKEN_INVALID, failure: LegacyCode.serverError },
  // /file/query answers a bare array: its failures are the gateway's HTTP errors.
  query: { codes: TOKEN_INVALID, failure: "throw" },
  // /file/update: 403 for a name the server refuses (as the original), 404 for no such file of the caller.
  update: {
    reasons: { [Reason.NAME_TAKEN]: LegacyCode.fileExists },
    codes: {
      ...TOKEN_INVALID,
      [Code.InvalidArgument]: "forbidden",
      [Code.AlreadyExists]: LegacyCode.fileExists,
      [Code.NotFound]: "not-found",
    },
    failure: "throw",
  },
  downloadurl: {
    codes: { ...TOKEN_INVALID, [Code.NotFound]: "not-found", [Code.InvalidArgument]: "bad-request" },
    failure: LegacyCode.serverError,
  },
  // GET /file/download: the worker's answer passes unless the legacy API says otherwise (the bytes, 206,
  // 304, 416, its failures); a worker that cannot be reached is 10002.
  download: {
    codes: {
      ...TOKEN_INVALID,
      [Code.NotFound]: "not-found",
      ...each([Code.InvalidArgument, Code.FailedPrecondition, Code.OutOfRange], "bad-request"),
    },
    otherwise: "pass",
    failure: LegacyCode.serverError,
  },
  // Miss (-1): no such content of the caller's, or a bad request.
  fastupload: {
    reasons: QUOTA,
    codes: { ...TOKEN_INVALID, [Code.NotFound]: -1, [Code.InvalidArgument]: -1 },
    failure: -2,
  },
  // -4: the server's storage is full or the caller has too many uploads open (the message says which).
  mpuploadInit: {
    reasons: { [Reason.STORAGE_FULL]: -4, [Reason.TOO_MANY_UPLOADS]: -4, ...QUOTA },
    codes: { [Code.InvalidArgument]: -1, [Code.ResourceExhausted]: -4 },
    failure: -2,
  },
  // -2: the chunk did not verify (hash or size); -1: the request was wrong (id, index); -6: the server
  // failed (its storage full, a service down: the message says which, with the request id).
  mpuploadPart: {
    reasons: { [Reason.PART_MISMATCH]: -2, [Reason.STORAGE_FULL]: "failure" },
    codes: { ...TOKEN_INVALID, ...each(SERVER_FAILED, "failure") },
    otherwise: -1,
    failure: -6,
  },
  // -2: parts missing or not matching the file; -1: no such session.
  mpuploadComplete: {
    reasons: QUOTA,
    codes: { [Code.FailedPrecondition]: -2, [Code.InvalidArgument]: -2, [Code.NotFound]: -1 },
    failure: -6,
  },
  mpuploadCancel: {
    codes: { [Code.NotFound]: -1, [Code.InvalidArgument]: -1 },
    failure: -3,
  },
  // -1: the request was wrong (no file field, a bad name, too large); -6: the server failed.
  upload: {
    reasons: { [Reason.STORAGE_FULL]: "failure", ...QUOTA },
    codes: { ...TOKEN_INVALID, ...each(SERVER_FAILED, "failure") },
    otherwise: -1,
    failure: -6,
  },
} as const satisfies Record<string, LegacyErrorRules>;

export type LegacyRouteGroup = keyof typeof LEGACY_ERRORS;

/** The answer the table gives for `err` in a route group. */
export function legacyAnswerOf(group: LegacyRouteGroup, err: ConnectError): LegacyAnswer {
  const rules: LegacyErrorRules = LEGACY_ERRORS[group];
  const reason = reasonOf(err);
  return (
    (reason && rules.reasons?.[reason]) ?? rules.codes?.[err.code] ?? rules.otherwise ?? ("failure" as const)
  );
}

/** The plain HTTP answers of a route that has some ("forbidden", "not-found", "bad-request"). */
export type PlainAnswers = Partial<
  Record<"forbidden" | "not-found" | "bad-request", (e: ConnectError) => Response>
>;

type Ctx = Context<{ Variables: { clientIp: string; requestId: string } }>;

export const tokenInvalid = (c: Ctx) =>
  c.json({ code: LegacyCode.tokenInvalid, msg: "token invalid; sign in again" });

/**
 * A route's answer to `err` (an RPC's error, or a worker's error answer read by workerError), by the table.
 * `answered`: the error is a worker's answer already (its message says what failed, with the request id).
 * `passed`: the worker's response, for "pass".
 */
export function legacyError(
  c: Ctx,
  group: LegacyRouteGroup,
  err: unknown,
  opts: { plain?: PlainAnswers; answered?: boolean; passed?: Response } = {},
): Response {
  const e = ConnectError.from(err);
  const answer = legacyAnswerOf(group, e);
  if (typeof answer === "number") return c.json({ code: answer, msg: e.rawMessage });
  if (typeof answer === "object") return c.json(answer);
  if (answer === "token-invalid") return tokenInvalid(c);
  if (answer === "pass" && opts.passed) return opts.passed;
  const plain = answer === "failure" || answer === "pass" ? undefined : opts.plain?.[answer];
  if (plain) return plain(e);
  const failure: number | "throw" = LEGACY_ERRORS[group].failure;
  if (failure === "throw") throw err;
  return c.json({ code: failure, msg: opts.answered ? e.rawMessage : serverFailureMessage(c, err) });
}

/**
 * A worker's error answer on a data plane (Connect-style JSON, reasons in "details") as a ConnectError;
 * a body that is not one is read by its HTTP status, with `fallback` for its message.
 */
export async function workerError(res: Response, fallback: string): Promise<ConnectError> {
  const json: unknown = await res.json().catch(() => undefined);
  const byStatus = new ConnectError(
    fallback,
    res.status === 401 ? Code.Unauthenticated : statusCode(res.status),
  );
  try {
    const e = errorFromJson(json as never, undefined, byStatus);
    return e.rawMessage ? e : Object.assign(new ConnectError(fallback, e.code), { details: e.details });
  } catch {
    return byStatus;
  }
}

/** A status's code where the body says none: the server failed for a 5xx, else a bad request. */
const statusCode = (status: number) => (status >= 500 ? Code.Internal : Code.InvalidArgument);
