// The /metrics endpoint, guarded: METRICS_TOKEN, when set, must come as `Authorization: Bearer <token>`
// (Prometheus' `authorization` scrape setting). Where the port is public (the gateway, all-in-one) the
// endpoint exists only with a token configured: without one it answers 404 like any unknown path, so a
// fresh deployment never publishes its traffic figures. Workers' ports are internal (NetworkPolicy, compose
// network): there the token is optional.
import { METRICS_CONTENT_TYPE } from "./registry.ts";

export const METRICS_PATH = "/metrics";

export interface MetricsEndpointOptions {
  /** METRICS_TOKEN; undefined or empty: none. */
  token: string | undefined;
  /** True on a public port: no token configured means no endpoint. */
  requireToken: boolean;
  /** The exposition text (every registry of the process). */
  text(): string | Promise<string>;
}

/** Compares without an early exit on the first differing character. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const notFound = () =>
  new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });

/** Answers a GET of /metrics (the caller routes only that path here). */
export function metricsEndpoint(opts: MetricsEndpointOptions): (req: Request) => Promise<Response> {
  const token = opts.token || undefined;
  return async (req) => {
    if (!token && opts.requireToken) return notFound();
    if (req.method !== "GET" && req.method !== "HEAD")
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    if (token) {
      const given = req.headers.get("authorization") ?? "";
      if (!given.startsWith("Bearer ") || !sameText(given.slice(7), token))
        return new Response("metrics need Authorization: Bearer <METRICS_TOKEN>\n", {
          status: 401,
          headers: { "content-type": "text/plain", "www-authenticate": 'Bearer realm="metrics"' },
        });
    }
    const body = await opts.text();
    return new Response(req.method === "HEAD" ? null : body, {
      headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
    });
  };
}
