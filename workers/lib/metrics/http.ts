// A worker's plain HTTP with metrics: every data-plane (and JWKS) request timed and counted by route
// template (core/metrics/http.ts, the gateway's own), and GET /metrics answered before any module.
import { METRICS_PATH, metricsEndpoint } from "../../../core/metrics/expose.ts";
import { measured } from "../../../core/metrics/http.ts";
import type { PlainHttp } from "../server.ts";
import type { Metrics } from "./registry.ts";

export function metricsHttp(
  metrics: Metrics,
  token: string | undefined,
  publicPort: boolean,
): (next: PlainHttp) => PlainHttp {
  const endpoint = metricsEndpoint({ token, requireToken: publicPort, text: () => metrics.text() });
  return (next) => {
    const timed = measured(metrics.http, next) as PlainHttp;
    // Scrapes are not counted as traffic.
    return (req, ip) => (isMetricsUrl(req.url) ? endpoint(req) : timed(req, ip));
  };
}

function isMetricsUrl(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return (
    start >= 0 &&
    url.startsWith(METRICS_PATH, start) &&
    /^(\?|$)/.test(url.slice(start + METRICS_PATH.length))
  );
}
