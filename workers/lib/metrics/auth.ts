// Signins by result, attempts refused by the rate limits, and refresh-token replays (a used refresh token
// presented again: the session is ended). Recorded by the account worker through AccountDeps.metrics.
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../../core/reasons.ts";
import { counter, type Metrics } from "./registry.ts";

export type SigninResult =
  | "ok"
  | "bad_credentials"
  | "second_factor_required"
  | "rate_limited"
  | "refused"
  | "error";

/** The result a failed signin counts as, from its error. */
export function signinResultOf(err: unknown): SigninResult {
  const e = ConnectError.from(err);
  if (e.code === Code.ResourceExhausted) return "rate_limited";
  if (reasonOf(e) === Reason.SECOND_FACTOR_REQUIRED) return "second_factor_required";
  if (e.code === Code.Unauthenticated) return "bad_credentials";
  if (e.code === Code.PermissionDenied || e.code === Code.FailedPrecondition) return "refused";
  return "error";
}

export interface AuthMetrics {
  signin(result: SigninResult): void;
  /** An attempt refused by a rate limit (signin, second factor, password checks). */
  rateLimited(what: "signin"): void;
  refreshReplay(): void;
}

export function authMetrics(m: Metrics): AuthMetrics {
  const service = m.service;
  const signins = counter(m, "filestore_auth_signins_total", "Signins by result", ["service", "result"]);
  const limited = counter(m, "filestore_auth_rate_limited_total", "Attempts refused by a rate limit", [
    "service",
    "limit",
  ]);
  const replays = counter(
    m,
    "filestore_auth_refresh_replays_total",
    "Refresh tokens presented again after use (the session is ended)",
    ["service"],
  );
  return {
    signin: (result) => signins.inc({ service, result }),
    rateLimited: (what) => limited.inc({ service, limit: what }),
    refreshReplay: () => replays.inc({ service }),
  };
}
