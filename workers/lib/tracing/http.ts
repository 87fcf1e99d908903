// A SERVER span per plain-HTTP request a worker serves (the data planes: parts, form, tus, downloads),
// named "<METHOD> <route template>", a child of the caller's traceparent (the gateway's span). It ends when
// the response's head is ready (a download's body streams on after).
// This is the cost tracing adds to every range request, so it is kept small: the span's name and
// attributes are made once per method and route, and an answer ready at once (a range request whose token
// and file are both in their caches) stays synchronous, as it is untraced: no promise, no microtask, and
// Bun.serve takes the Response as it is.
import { type Attributes, type Span, SpanStatusCode } from "@opentelemetry/api";
import { routeOf } from "../../../core/tracing/routes.ts";
import { activeTracer, endHttpSpan, startServerSpan, withSpan } from "../../../core/tracing/tracer.ts";
import { recordSpan } from "./record.ts";

interface RouteSpan {
  name: string;
  attributes: Attributes;
}

/** Span names and attributes by method, then route template (a few dozen at most: templates, not paths). */
const routeSpans = new Map<string, Map<string, RouteSpan>>();

function routeSpanOf(method: string, path: string): RouteSpan {
  const route = routeOf(path);
  let byRoute = routeSpans.get(method);
  if (!byRoute) {
    // Methods come from clients: only the standard ones get an entry each, any other shares one.
    byRoute = new Map();
    if (routeSpans.size < 16) routeSpans.set(method, byRoute);
  }
  let s = byRoute.get(route);
  if (!s) {
    // The SDK copies the attributes into each span: one frozen object serves every span of the route.
    s = {
      name: `${method} ${route}`,
      attributes: Object.freeze({ "http.request.method": method, "http.route": route }),
    };
    byRoute.set(route, s);
  }
  return s;
}

function failed(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? "error" });
  span.end();
}

/** `handle`'s answer inside a SERVER span (when tracing is on); synchronous when `handle` is. */
export function traceHttp(
  req: Request,
  path: string,
  handle: () => Response | Promise<Response>,
): Response | Promise<Response> {
  const tracer = activeTracer();
  if (!tracer) return handle();
  const { name, attributes } = routeSpanOf(req.method, path);
  const span = startServerSpan(tracer, name, req.headers, attributes);
  recordSpan(span);
  let res: Response | Promise<Response>;
  try {
    res = withSpan(span, handle);
  } catch (err) {
    failed(span, err);
    throw err;
  }
  if (!(res instanceof Promise)) {
    endHttpSpan(span, res.status);
    return res;
  }
  return res.then(
    (r) => {
      endHttpSpan(span, r.status);
      return r;
    },
    (err: unknown) => {
      failed(span, err);
      throw err;
    },
  );
}
