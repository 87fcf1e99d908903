// Clear messages for what can go wrong on a share link's page, by the server's reason: a wrong password
// and a link that is gone answer alike (the server tells neither apart, on purpose), a link revoked or
// expired while the page is open, a download limit reached, too many password attempts.
import { Reason, reasonOf } from "../../core/reasons.ts";
import { explain } from "./api.ts";

export type ShareProblemKind = "gone" | "ended" | "limit" | "slow-down" | "other";

export function shareProblem(err: unknown): { kind: ShareProblemKind; message: string } {
  switch (reasonOf(err)) {
    case Reason.SHARE_NOT_FOUND:
      return {
        kind: "gone",
        message: "This link does not open: the password is wrong, or the link was revoked or has expired.",
      };
    case Reason.SHARE_TOKEN_INVALID:
      return {
        kind: "ended",
        message: "This link was changed or has ended since you opened it. Open the link again.",
      };
    case Reason.SHARE_LIMIT_REACHED:
      return { kind: "limit", message: "This link has no downloads left: its download limit is reached." };
    case Reason.TOO_MANY_ATTEMPTS:
      return { kind: "slow-down", message: explain(err) };
    default:
      return { kind: "other", message: explain(err) };
  }
}

/** The message for a failure while the link was open (a link gone now is "revoked or expired"). */
export function shareFailure(err: unknown): string {
  const p = shareProblem(err);
  return p.kind === "gone" ? "This link no longer works: it was revoked or has expired." : p.message;
}
