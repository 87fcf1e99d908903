// Metrics of plain HTTP requests (the data planes, legacy routes, the gateway): a duration histogram by
// route template, method and status class, and bytes received and sent by route. Bytes are the declared
// Content-Length of each body (what a client announced and a handler answered): counting streamed bytes
// would put a transform in every upload and download stream, and take the sendfile(2) path from downloads.
import type { Counter, Histogram, MetricsRegistry } from "./registry.ts";
import { OTHER_ROUTE, routeTemplate } from "./routes.ts";

/** Methods counted as they are; anything else is "OTHER" (a client may send any token). */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface HttpMetrics {
  /**
   * Records one answered request. `route`: a template the caller knows (the gateway's router), used when
   * the path is none of the shared templates.
   */
  observe(req: Request, res: Response, startedMs: number, route?: string): void;
}

/** The HTTP metrics of `service` in `registry` (one family per name, shared by every service of a process). */
export function httpMetrics(registry: MetricsRegistry, service: string): HttpMetrics {
  const duration: Histogram = registry.histogram(
    "filestore_http_server_duration_seconds",
    "Plain HTTP requests (data plane, legacy routes, gateway): time to the response head, by route template",
    ["service", "method", "route", "status"],
  );
  const received: Counter = registry.counter(
    "filestore_http_server_request_bytes_total",
    "Request body bytes received (declared Content-Length), by route template",
    ["service", "route"],
  );
  const sent: Counter = registry.counter(
    "filestore_http_server_response_bytes_total",
    "Response body bytes sent (declared Content-Length), by route template",
    ["service", "route"],
  );
  return {
    observe(req, res, startedMs, known) {
      const path = pathOf(req.url);
      const route = routeTemplate(path) ?? known ?? OTHER_ROUTE;
      const method = METHODS.has(req.method) ? req.method : "OTHER";
      duration.observe([service, method, route, String(res.status)], (performance.now() - startedMs) / 1000);
      const inBytes = Number(req.headers.get("content-length"));
      if (inBytes > 0) received.inc([service, route], inBytes);
      const outBytes = Number(res.headers.get("content-length"));
      if (outBytes > 0 && req.method !== "HEAD") sent.inc([service, route], outBytes);
    },
  };
}

/** The path of an absolute URL without building a URL object (hot path). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/**
 * Wraps a fetch-style handler so that each answered request is recorded. A handler that answers at once
 * (not a promise: the download fast path, whose Response Bun.serve takes as it is) stays synchronous.
 */
export function measured<A extends unknown[]>(
  metrics: HttpMetrics,
  handler: (req: Request, ...rest: A) => Response | Promise<Response>,
): (req: Request, ...rest: A) => Response | Promise<Response> {
  return (req, ...rest) => {
    const started = performance.now();
    const res = handler(req, ...rest);
    if (res instanceof Response) {
      metrics.observe(req, res, started);
      return res;
    }
    return res.then((r) => {
      metrics.observe(req, r, started);
      return r;
    });
  };
}
