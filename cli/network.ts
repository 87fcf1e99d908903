// When the server cannot be reached or is failing: what the failure is in a few words, the retries
// (with the code base's one backoff, core/backoff.ts) and the single line the user finally reads.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type Backoff, backoffDelay } from "../core/backoff.ts";
import { REQUEST_ID_HEADER } from "../core/failure.ts";

/** System error codes of a connection that failed, as Node, Bun's node:http and Bun's fetch name them. */
const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ENOTFOUND: "host not found (DNS)",
  EAI_AGAIN: "host not found (DNS, temporary)",
  ECONNRESET: "connection reset",
  ConnectionClosed: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  FailedToOpenSocket: "cannot open a connection",
};

/** "connection refused" etc. when `err` (or an error it wraps) is a failed connection. */
export function connectionProblem(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES[code]) return CONNECTION_CODES[code];
  }
  return undefined;
}

/** The server could not be reached: one line, `cannot reach http://host:port: connection refused`. */
export class Unreachable extends Error {
  constructor(origin: string, problem: string, options?: { cause?: unknown }) {
    super(`cannot reach ${origin}: ${problem}`, options);
  }
}

/** Whether `err` means the server could not be reached at all (after the retries, where there are any). */
export const unreachable = (err: unknown): boolean =>
  err instanceof Unreachable || connectionProblem(err) !== undefined;

/** Server-side failures (5xx) and what it said, with its request id when the message lacks it. */
export function serverFailure(err: ConnectError, server: string | undefined): string | undefined {
  const fivexx = [Code.Unavailable, Code.Internal, Code.Unknown, Code.DataLoss];
  if (!fivexx.includes(err.code)) return undefined;
  const rid = err.metadata.get(REQUEST_ID_HEADER);
  const said = err.rawMessage || "no message";
  const message = rid && !said.includes(rid) ? `${said} (request id ${rid})` : said;
  const who = server ?? "the server";
  // An Unavailable message says what is unavailable ("the file service is unavailable, retry in a moment").
  return err.code === Code.Unavailable ? `${who}: ${message}` : `server error from ${who}: ${message}`;
}

/** A few tries within about two seconds: enough for a restart or a blip, short for "the server is down". */
export const RETRY: Backoff & { tries: number } = { tries: 4, baseMs: 200, maxMs: 1000, jitter: "equal" };

/** Whether another try may succeed: a failed connection, or the server saying it is unavailable. */
export const retryable = (err: unknown): boolean =>
  connectionProblem(err) !== undefined || (err instanceof ConnectError && err.code === Code.Unavailable);

/**
 * Retries unary calls that failed to connect or were answered Unavailable (a streamed request cannot be
 * replayed). A call reset mid-way may have reached the server: the RPCs the CLI repeats this way are
 * reads, or creations that the server refuses to duplicate (one entry per name).
 */
export function retryInterceptor(origin: string, policy = RETRY): Interceptor {
  return (next) => async (req) => {
    for (let retry = 0; ; retry++) {
      try {
        return await next(req);
      } catch (err) {
        if (req.stream || !retryable(err)) throw err;
        if (retry + 1 >= policy.tries) {
          const problem = connectionProblem(err);
          throw problem ? new Unreachable(origin, problem, { cause: err }) : err;
        }
        await Bun.sleep(backoffDelay(retry, policy));
      }
    }
  };
}
