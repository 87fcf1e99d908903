// Plain-HTTP endpoints of the workers (data planes): the caller's identity and error answers, shaped like
// Connect's JSON errors so that clients read one format.
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import { type AccessTokenVerifier, bearer, type Identity, InvalidTokenError } from "./access-token.ts";
import { unauthenticated } from "./errors.ts";

/** The access token a data-plane request carries: Authorization: Bearer, or a `token` query parameter. */
export const tokenOf = (req: Request, url: URL | string): string | undefined =>
  bearer(req.headers.get("authorization")) ??
  (typeof url === "string" ? new URL(url) : url).searchParams.get("token") ??
  undefined;

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

/** A Connect-style JSON error answer; unexpected errors go to onError and reach the client as "internal". */
export function errorResponse(err: unknown, onError: (err: unknown) => void): Response {
  let e = ConnectError.from(err);
  if (e.code === Code.Internal || e.code === Code.Unknown) {
    onError(err);
    e = new ConnectError("internal error", Code.Internal);
  }
  return Response.json(errorToJson(e, undefined), { status: codeToHttpStatus(e.code) });
}
