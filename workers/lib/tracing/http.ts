// A SERVER span per plain-HTTP request a worker serves (the data planes: parts, form, tus, downloads),
// named "<METHOD> <route template>", a child of the caller's traceparent (the gateway's span). It ends when
// the response's head is ready (a download's body streams on after).
import { SpanStatusCode } from "@opentelemetry/api";
import { routeOf } from "../../../core/tracing/routes.ts";
import { activeTracer, endHttpSpan, startServerSpan, withSpan } from "../../../core/tracing/tracer.ts";
import { recordSpan } from "./record.ts";

export async function traceHttp(
  req: Request,
  path: string,
  handle: () => Promise<Response>,
): Promise<Response> {
  const tracer = activeTracer();
  if (!tracer) return handle();
  const route = routeOf(path);
  const span = startServerSpan(tracer, `${req.method} ${route}`, req.headers, {
    "http.request.method": req.method,
    "http.route": route,
  });
  recordSpan(span);
  try {
    const res = await withSpan(span, handle);
    endHttpSpan(span, res.status);
    return res;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? "error" });
    span.end();
    throw err;
  }
}
