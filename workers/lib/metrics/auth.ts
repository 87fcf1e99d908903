// Signins by result, attempts refused by the rate limits, and refresh-token replays (a used refresh token
// presented again: the session is ended). Recorded by the account worker through AccountDeps.metrics.
import { counter, type Metrics } from "./registry.ts";

export type SigninResult = "ok" | "bad_credentials" | "second_factor_required" | "rate_limited" | "refused";

export interface AuthMetrics {
  signin(result: SigninResult): void;
  /** An attempt refused by a rate limit (signin, second factor, password checks). */
  rateLimited(what: "signin" | "other"): void;
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
