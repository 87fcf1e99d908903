// Values that interceptors hand to handlers through Connect's context.
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type HandlerContext,
} from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";

export const requestIdKey = createContextKey<string>("", { description: "request id" });
export const identityKey = createContextKey<Identity | undefined>(undefined, {
  description: "caller identity",
});
export const clientIpKey = createContextKey<string>("", { description: "client address" });

/**
 * `values` whose client address is `compute()`d when first read, then kept (a handler or interceptor that
 * sets it replaces it). Connect's context values are properties keyed by the key's symbol: an accessor
 * there is read by `get` as a stored value would be.
 */
export function lazyClientIp(values: ContextValues, compute: () => string): ContextValues {
  let ip: string | undefined;
  Object.defineProperty(values, clientIpKey.id, {
    configurable: true,
    enumerable: true,
    get: () => {
      ip ??= compute();
      return ip;
    },
    set: (v: string) => {
      ip = v;
    },
  });
  return values;
}

/** The authenticated caller; the auth interceptor guarantees it for non-public methods. */
export function requireIdentity(ctx: HandlerContext): Identity {
  const id = ctx.values.get(identityKey);
  if (!id) throw new ConnectError("sign in first: this call needs an access token", Code.Unauthenticated);
  return id;
}
