// What a failure means to the user: a message they can act on and the exit code scripts can test.
import { Code, ConnectError } from "@connectrpc/connect";
import { UsageError } from "./args.ts";
import { describeFsError } from "./local-errors.ts";
import { connectionProblem, serverFailure, Unreachable } from "./network.ts";
import { HttpError, NetworkError } from "./pool.ts";
import { Interrupted } from "./prompt.ts";
import { AuthError } from "./session.ts";

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  /** `filestore admin fsck` found problems it did not (or could not) repair. */
  problems: 5,
  interrupted: 130,
} as const;

/** Errors of the CLI's own (an expired session) thrown inside an RPC come back wrapped: unwrap them. */
const unwrap = (err: unknown) =>
  err instanceof ConnectError && err.cause instanceof Error && !(err.cause instanceof ConnectError)
    ? err.cause
    : err;

export function exitCodeOf(error: unknown): number {
  const err = unwrap(error);
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof AuthError) return EXIT.auth;
  if (err instanceof Interrupted) return EXIT.interrupted;
  if (err instanceof HttpError) {
    return err.status === 401 ? EXIT.auth : err.status === 404 ? EXIT.notFound : EXIT.failure;
  }
  if (err instanceof ConnectError) {
    if (err.code === Code.Unauthenticated) return EXIT.auth;
    if (err.code === Code.NotFound) return EXIT.notFound;
  }
  return EXIT.failure;
}

export function describe(error: unknown, server?: string): string {
  const err = unwrap(error);
  // These name the address they could not reach (a data-plane URL may be another host's).
  if (err instanceof Unreachable || err instanceof NetworkError) return err.message;
  const problem = connectionProblem(error);
  if (problem) return `cannot reach ${server ?? "the server"}: ${problem}`;
  if (err instanceof ConnectError) {
    const failure = serverFailure(err, server);
    if (failure) return failure;
    switch (err.code) {
      case Code.Unimplemented:
        return `the server does not offer this yet (${err.rawMessage})`;
      case Code.Unauthenticated:
        return `${err.rawMessage} (run filestore login)`;
      default:
        return err.rawMessage;
    }
  }
  if (err instanceof UsageError) {
    return err.command ? `${err.message}\n(see filestore ${err.command} --help)` : err.message;
  }
  if (err instanceof Error) return describeFsError(err) ?? err.message;
  return String(err);
}
