// Reading the environment and the client address without runtime imports (Deno, Bun and Node alike).
import { clientAddress } from "../workers/lib/web/client-address.ts";

type EnvMap = Record<string, string | undefined>;

export function readEnv(): EnvMap {
  const g = globalThis as unknown as {
    process?: { env: EnvMap };
    Deno?: { env: { toObject(): EnvMap } };
  };
  if (g.Deno) return g.Deno.env.toObject();
  return g.process?.env ?? {};
}

/**
 * The peer address as each runtime hands it to `fetch(req, env)`: Deno serve passes
 * `{ remoteAddr: { hostname } }`, Bun passes its server (with `requestIP`). In-process callers pass nothing.
 */
export function peerAddress(req: Request, env: unknown): string {
  const e = env as {
    remoteAddr?: { hostname?: string };
    requestIP?: (r: Request) => { address: string } | null;
  } | null;
  if (e?.remoteAddr?.hostname) return e.remoteAddr.hostname;
  if (typeof e?.requestIP === "function") return e.requestIP(req)?.address ?? "unknown";
  return "unknown";
}

/**
 * The client's address at the edge: the peer, or, when the peer is a proxy named in TRUSTED_PROXIES, the
 * rightmost X-Forwarded-For hop that is not one (see workers/lib/web/client-address.ts).
 */
export function clientAddressOf(req: Request, env: unknown, trusted: (addr: string) => boolean): string {
  return clientAddress(peerAddress(req, env), req.headers.get("x-forwarded-for"), trusted);
}
