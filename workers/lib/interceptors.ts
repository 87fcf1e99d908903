// Interceptors shared by every worker: request id + error mapping/logging, and authentication.
import { timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type AccessTokenVerifier, bearer, InvalidTokenError } from "../../core/access-token.ts";
import { type Access, accessOf } from "../../core/call-policy.ts";
import { clientError, REQUEST_ID_HEADER } from "../../core/failure.ts";
import { requestIdFrom } from "../../core/request-id.ts";
import { identityKey, requestIdKey } from "./context.ts";
import { currentRequestId, errorText, type Logger } from "./log.ts";
import { recordRequestId } from "./tracing/record.ts";

export { REQUEST_ID_HEADER, requestIdFrom };
export const INTERNAL_SECRET_HEADER = "x-filestore-internal";

export { currentRequestId };

/** Client side: sends the request id of the call being served, unless the caller set one. */
export function requestIdPropagation(): Interceptor {
  return (next) => (req) => {
    const id = currentRequestId.getStore();
    if (id && !req.header.has(REQUEST_ID_HEADER)) req.header.set(REQUEST_ID_HEADER, id);
    return next(req);
  };
}

/**
 * Gives each call a request id (the caller's when it is sane), returns it in a response header, and
 * turns unexpected errors into answers a client can act on (failure.ts: storage full, a dependency
 * unavailable, else Internal), each with only the request id in the message: stack and cause go to the
 * log, never to the client.
 */
export function errorInterceptor(log: Logger): Interceptor {
  const mapError = (err: unknown, id: string, rpc: string): ConnectError => {
    const answer = clientError(err, id);
    if (answer !== err) {
      log.error("rpc failed", {
        rid: id,
        rpc,
        code: Code[answer.code],
        err: errorText(err),
      });
    }
    return answer;
  };
  return (next) => async (req) => {
    const id = requestIdFrom(req.header.get(REQUEST_ID_HEADER)) ?? crypto.randomUUID();
    req.contextValues.set(requestIdKey, id);
    recordRequestId(id);
    const rpc = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await currentRequestId.run(id, () => next(req));
      res.header.set(REQUEST_ID_HEADER, id);
      if (!res.stream) return res;
      const inner = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* inner;
          } catch (err) {
            throw mapError(err, id, rpc);
          }
        })(),
      };
    } catch (err) {
      throw mapError(err, id, rpc);
    }
  };
}

export type AccessPolicy = (service: string, method: string) => Access;

/** Who may call what: the one table the gateway reads too (core/call-policy.ts). */
export const defaultPolicy: AccessPolicy = accessOf;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface AuthOptions {
  verifier: AccessTokenVerifier;
  internalSecret: string | undefined;
  policy?: AccessPolicy;
}

/** Every worker checks credentials itself: a service reachable on the network trusts nobody by default. */
export function authInterceptor(opts: AuthOptions): Interceptor {
  const policy = opts.policy ?? defaultPolicy;
  return (next) => async (req) => {
    const access = policy(req.service.typeName, req.method.name);
    if (access === "internal") {
      const given = req.header.get(INTERNAL_SECRET_HEADER);
      if (!opts.internalSecret || !given || !sameSecret(given, opts.internalSecret)) {
        throw new ConnectError(
          "this service is internal: callers must present the internal secret",
          Code.PermissionDenied,
        );
      }
      return next(req);
    }
    const token = bearer(req.header.get("authorization"));
    if (access === "user") {
      if (!token)
        throw new ConnectError(
          "sign in first: send Authorization: Bearer <access token>",
          Code.Unauthenticated,
        );
      try {
        req.contextValues.set(identityKey, await opts.verifier.verify(token));
      } catch (err) {
        if (err instanceof InvalidTokenError) throw new ConnectError(err.message, Code.Unauthenticated);
        throw err;
      }
    }
    return next(req);
  };
}

/** Client-side: adds the internal secret to calls between services. */
export function internalCallerInterceptor(secret: string): Interceptor {
  return (next) => (req) => {
    req.header.set(INTERNAL_SECRET_HEADER, secret);
    return next(req);
  };
}
