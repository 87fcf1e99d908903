// The process's tracer, or none. Tracing is off (every helper here a no-op, the span wrappers skipped by
// one check) unless startTracing installed a tracer because OTEL_EXPORTER_OTLP_ENDPOINT is set.
// W3C trace context in headers: the gateway, the workers' interceptors and data planes read and write it
// with these helpers. Web-standard: the gateway (Deno) uses them as the workers do.
import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

let current: Tracer | undefined;

/** The tracer when tracing is on, else undefined (callers then do nothing at all). */
export const activeTracer = (): Tracer | undefined => current;

/** Installs (or, with undefined, removes) the tracer: startTracing and tests. */
export function useTracer(tracer: Tracer | undefined): void {
  current = tracer;
}

const w3c = new W3CTraceContextPropagator();
const getter: TextMapGetter<Headers> = {
  get: (h, key) => h.get(key) ?? undefined,
  keys: (h) => [...h.keys()],
};
const setter: TextMapSetter<Headers> = { set: (h, key, value) => h.set(key, value) };

/** The caller's trace context from `traceparent`/`tracestate` (an empty context when absent or malformed). */
export const contextFrom = (headers: Headers): Context => w3c.extract(ROOT_CONTEXT, headers, getter);

/** Writes `span` as the parent of the request these headers go with (replacing any traceparent there). */
export function injectSpan(headers: Headers, span: Span): void {
  headers.delete("tracestate");
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter);
}

/** Writes the active span (if any) as the parent of the request these headers go with. */
export function injectActive(headers: Headers): void {
  headers.delete("tracestate");
  w3c.inject(context.active(), headers, setter);
}

/** The traceparent of the active span (workers: the request or job being served), if tracing is on. */
export function activeTraceparent(): string | undefined {
  if (!current) return undefined;
  const carrier = new Headers();
  w3c.inject(context.active(), carrier, setter);
  return carrier.get("traceparent") ?? undefined;
}

/** A SERVER span for a request, a child of the trace context its headers carry. */
export function startServerSpan(
  tracer: Tracer,
  name: string,
  headers: Headers,
  attributes: Attributes,
): Span {
  return tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, contextFrom(headers));
}

/** Runs `fn` with `span` as the active span (workers: their context manager carries it across awaits). */
export const withSpan = <T>(span: Span, fn: () => T): T =>
  context.with(trace.setSpan(context.active(), span), fn);

/** Ends an HTTP server span with its status: 5xx is an error of the server (semantic conventions). */
export function endHttpSpan(span: Span, status: number): void {
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** The ids of a span for log lines. */
export function traceFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const sc = span?.spanContext();
  return sc ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}
