// The gateway's metrics: every request timed and counted by route template (core/metrics/http.ts), and
// GET /metrics (core/metrics/expose.ts: only with METRICS_TOKEN set, the gateway's port being public).
import type { Context, Hono } from "hono";
import { matchedRoutes } from "hono/route";
import { METRICS_PATH, metricsEndpoint } from "../core/metrics/expose.ts";
import { type HttpMetrics, httpMetrics } from "../core/metrics/http.ts";
import { MetricsRegistry } from "../core/metrics/registry.ts";
import { runtimeMetrics } from "../core/metrics/runtime.ts";

export interface GatewayMetrics {
  http: HttpMetrics;
  /** Answers GET /metrics (all-in-one: every registry of the process). */
  endpoint(req: Request): Promise<Response>;
}

/**
 * The template of the route that answered (e.g. "/file/upload"). Hono lists every route the path matched
 * in registration order, middleware too ("ALL", mostly wildcards); the first handler route is the one
 * that answered, since the ones after it never ran.
 */
function answeredRoute(c: Context): string | undefined {
  for (const r of matchedRoutes(c)) if (r.method !== "ALL" && !r.path.includes("*")) return r.path;
  return undefined;
}

/** Installs the request metrics (first middleware: it times everything after it) and GET /metrics. */
// biome-ignore lint/suspicious/noExplicitAny: any Hono app of the gateway, whatever its variables
export function useMetrics(app: Hono<any>, metrics: GatewayMetrics | undefined): void {
  if (!metrics) return;
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    metrics.http.observe(c.req.raw, c.res, started, answeredRoute(c));
  });
  app.on(["GET", "HEAD"], METRICS_PATH, (c) => metrics.endpoint(c.req.raw));
}

type Handler = (req: Request) => Response | Promise<Response>;
interface ServeRuntime {
  Deno?: { serve(opts: { hostname: string; port: number; onListen?: () => void }, h: Handler): unknown };
  Bun?: { serve(opts: { hostname: string; port: number; fetch: Handler }): unknown };
}

/**
 * A second listener for /metrics only (METRICS_PORT), under Deno or Bun: a port kept inside the cluster
 * (Kubernetes: no Service or Ingress routes it; the NetworkPolicy admits the monitoring namespace), so that
 * the gateway holds no token for Prometheus. False where the runtime has neither (Node).
 */
function serveMetricsPort(hostname: string, port: number, handler: Handler): boolean {
  const rt = globalThis as unknown as ServeRuntime;
  const only: Handler = (req) =>
    new URL(req.url).pathname === METRICS_PATH
      ? handler(req)
      : new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
  if (rt.Deno) rt.Deno.serve({ hostname, port, onListen: () => {} }, only);
  else if (rt.Bun) rt.Bun.serve({ hostname, port, fetch: only });
  else return false;
  return true;
}

/** METRICS_PORT: undefined when unset; a port number, or a clear error. */
export function metricsPortFrom(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`METRICS_PORT must be a port number (1-65535), got "${raw}"`);
  return port;
}

/**
 * The gateway's own process (gateway/main.ts): its registry and process gauges. GET /metrics on the public
 * port only with METRICS_TOKEN set (and then only with it); on METRICS_PORT, when set, for anyone who
 * reaches that port (with METRICS_TOKEN too, when set).
 */
export function standaloneGatewayMetrics(env: {
  token: string | undefined;
  port: number | undefined;
  hostname: string;
}): GatewayMetrics {
  const registry = new MetricsRegistry();
  runtimeMetrics(registry, "gateway");
  const text = () => registry.text();
  if (
    env.port !== undefined &&
    !serveMetricsPort(
      env.hostname,
      env.port,
      metricsEndpoint({ token: env.token, requireToken: false, text }),
    )
  )
    console.error(
      JSON.stringify({
        level: "warn",
        service: "gateway",
        msg: "METRICS_PORT needs Deno or Bun: not served",
      }),
    );
  return {
    http: httpMetrics(registry, "gateway"),
    endpoint: metricsEndpoint({ token: env.token, requireToken: true, text }),
  };
}
