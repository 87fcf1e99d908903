// The one exponential backoff of the code base: RPC retries, transaction retries and queue retries all
// take their pauses from here, and differ only in their numbers and their jitter.
//   full jitter  (0 to the cap): many callers retrying at once spread out most (RPC and DB conflicts,
//                where the callers that collided should not collide again);
//   equal jitter (half to all of it): a retry is never much earlier than the schedule says (queue jobs,
//                whose delays an operator reads in the dead-letter list and the README).

export interface Backoff {
  /** The pause before the first retry (ms); it doubles with each one. */
  baseMs: number;
  /** The longest pause (ms), before jitter. */
  maxMs: number;
  jitter: "full" | "equal";
  /** A number in [0, 1); Math.random unless a test pins it. */
  random?: () => number;
}

/** The pause before retry number `retry` (0-based): min(maxMs, baseMs·2^retry), then jittered. */
export function backoffDelay(retry: number, b: Backoff): number {
  const cap = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, retry));
  const r = (b.random ?? Math.random)();
  return b.jitter === "full" ? r * cap : cap / 2 + (cap / 2) * r;
}
