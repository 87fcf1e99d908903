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

/** The template of the route that answered (e.g. "/file/upload"), when it has no wildcard. */
function answeredRoute(c: Context): string | undefined {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]?.path ?? "*";
    if (!path.includes("*")) return path;
  }
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

/** The gateway's own process (gateway/main.ts): its registry, process gauges, and METRICS_TOKEN's guard. */
export function standaloneGatewayMetrics(token: string | undefined): GatewayMetrics {
  const registry = new MetricsRegistry();
  runtimeMetrics(registry, "gateway");
  return {
    http: httpMetrics(registry, "gateway"),
    endpoint: metricsEndpoint({ token, requireToken: true, text: () => registry.text() }),
  };
}
