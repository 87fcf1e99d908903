// Values that interceptors hand to handlers through Connect's context.
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";

export const requestIdKey = createContextKey<string>("", { description: "request id" });
export const identityKey = createContextKey<Identity | undefined>(undefined, {
  description: "caller identity",
});
export const clientIpKey = createContextKey<string>("", { description: "client address" });

/** The authenticated caller; the auth interceptor guarantees it for non-public methods. */
export function requireIdentity(ctx: HandlerContext): Identity {
  const id = ctx.values.get(identityKey);
  if (!id) throw new ConnectError("sign in first: this call needs an access token", Code.Unauthenticated);
  return id;
}
