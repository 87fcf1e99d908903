// What the legacy file routes share: the caller's check (token valid and naming the user), the headers
// that carry it on to a worker's RPC, and forwarding to a worker's data plane.
import type { ConnectError } from "@connectrpc/connect";
import type { Context } from "hono";
import { type AccessTokenVerifier, InvalidTokenError } from "../../core/access-token.ts";
import { upstreamUnavailable } from "../rpc/errors.ts";
import { forward } from "../rpc/proxy.ts";
import type { Upstream } from "../upstreams.ts";

export type Env = { Variables: { clientIp: string; requestId: string } };

export interface LegacyAuth {
  /** True when the token is valid and (if given) names the user; then `call` carries it on. */
  authorized(p: Record<string, string>): Promise<boolean>;
  /** Call options of an RPC made for the caller: its token, address and request id. */
  call(c: Context<Env>, token: string): { headers: Record<string, string> };
}

export function legacyAuth(verifier: AccessTokenVerifier): LegacyAuth {
  return {
    async authorized(p) {
      if (!p.token) return false;
      try {
        const who = await verifier.verify(p.token);
        return !p.username || p.username.toLowerCase() === who.username.toLowerCase();
      } catch (err) {
        if (err instanceof InvalidTokenError) return false;
        throw err;
      }
    },
    call: (c, token) => ({
      headers: {
        authorization: `Bearer ${token}`,
        "x-forwarded-for": c.get("clientIp"),
        "x-request-id": c.get("requestId"),
      },
    }),
  };
}

/**
 * Forwards a legacy request on to a worker's data plane; when the worker cannot be reached, the error to
 * tell ("the <service> service is unavailable, retry in a moment (request id …)").
 */
export async function toWorker(
  c: Context<Env>,
  req: Request,
  path: string,
  service: "upload" | "download",
  upstream: Upstream,
): Promise<Response | ConnectError> {
  try {
    return await forward(req, path, upstream, c.get("clientIp"), c.get("requestId"));
  } catch (err) {
    return upstreamUnavailable(err, service, c.get("requestId"));
  }
}
