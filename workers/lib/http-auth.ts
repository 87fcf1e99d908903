// Plain-HTTP endpoints of the workers (data planes): the caller's identity and error answers, shaped like
// Connect's JSON errors so that clients read one format.
import { ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import {
  type AccessTokenVerifier,
  type Identity,
  InvalidTokenError,
  tokenOf,
} from "../../core/access-token.ts";
import { clientError, failureHeaders, httpStatusOf } from "../../core/failure.ts";
import { unauthenticated } from "./errors.ts";
import { currentRequestId, REQUEST_ID_HEADER, requestIdFrom } from "./interceptors.ts";

/**
 * The caller of a data-plane request: Authorization: Bearer, or (legacy pages) a `token` query parameter.
 * `url` may be the request's URL unparsed: it is parsed only when there is no Authorization header.
 */
export const identify = (req: Request, url: URL | string, verifier: AccessTokenVerifier): Promise<Identity> =>
  verifyToken(tokenOf(req, url), verifier);

/** The caller a token names; Unauthenticated when there is none or it does not verify. */
export async function verifyToken(
  token: string | undefined,
  verifier: AccessTokenVerifier,
): Promise<Identity> {
  if (!token) throw unauthenticated("sign in first: send Authorization: Bearer <access token>");
  try {
    return await verifier.verify(token);
  } catch (err) {
    throw err instanceof InvalidTokenError ? unauthenticated(err.message) : err;
  }
}

/** Called with an error a data plane could not answer as it was, and the request id it answered under. */
export type OnError = (err: unknown, requestId: string) => void;

export interface ErrorAnswerOptions {
  /** The request, for the caller's request id when none is in scope (a data plane served directly). */
  req?: Request;
  /** A plain-text body (tus) instead of Connect-style JSON. */
  text?: boolean;
  headers?: Record<string, string>;
}

/**
 * A data plane's error answer: Connect-style JSON (or plain text), the request id in an X-Request-Id
 * header and, for every 5xx, in the message. Errors are mapped as RPC errors are (failure.ts): full storage
 * → 507, a dependency down → 503 with Retry-After, anything unexpected → 500 "internal error"; those go to
 * onError.
 */
export function errorResponse(err: unknown, onError: OnError, opts: ErrorAnswerOptions = {}): Response {
  // A service's answer carries the id it was given (the same as ours once propagated): keep the one the
  // message names.
  const id =
    (err instanceof ConnectError ? requestIdFrom(err.metadata.get(REQUEST_ID_HEADER)) : undefined) ??
    currentRequestId.getStore() ??
    requestIdFrom(opts.req?.headers.get(REQUEST_ID_HEADER)) ??
    crypto.randomUUID();
  const e = clientError(err, id);
  if (e !== err) onError(err, id);
  const status = httpStatusOf(e);
  const headers = { ...opts.headers, ...failureHeaders(e, id) };
  if (opts.text) {
    return new Response(`${e.rawMessage}\n`, {
      status,
      headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
    });
  }
  return Response.json(errorToJson(e, undefined), { status, headers });
}
