// Traces at the edge: a SERVER span per request (a child of the client's `traceparent` when it sends one,
// else the root of a new trace), and a CLIENT span per call the request makes to a worker, whose context
// goes out in `traceparent`. Web-standard code carries no active span across awaits, so a worker call
// finds its request's span by the request id it carries (every call the gateway makes for a request
// sends X-Request-Id): `LiveSpans` holds the span of each request in progress. Installed only when
// tracing is on.
import { ROOT_CONTEXT, type Span, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { REQUEST_ID_HEADER } from "../core/request-id.ts";
import { routeOf } from "../core/tracing/routes.ts";
import { endHttpSpan, injectSpan, startServerSpan } from "../core/tracing/tracer.ts";
import type { Upstream, Upstreams } from "./upstreams.ts";

type Env = { Variables: { clientIp: string; requestId: string } };

/**
 * The server span of each request in progress, by request id. Two requests in progress under one id (a
 * client reusing its ids) are ambiguous: their worker calls then start traces of their own rather than
 * join the wrong one.
 */
export class LiveSpans {
  private readonly spans = new Map<string, Span | null>();
  add(id: string, span: Span): void {
    this.spans.set(id, this.spans.has(id) ? null : span);
  }
  remove(id: string, span: Span): void {
    const live = this.spans.get(id);
    if (live === span || live === null) this.spans.delete(id);
  }
  of(id: string | null): Span | undefined {
    return id === null ? undefined : (this.spans.get(id) ?? undefined);
  }
}

/**
 * The route a request took (after it was answered): an RPC's own path, a data-plane template, else the
 * Hono route that answered it.
 */
export function routeTaken(c: Context<Env>): string {
  const route = routeOf(c.req.path);
  return route === "other" ? routePath(c) : route;
}

/** Middleware (after the request id is set): the request's SERVER span, named "<METHOD> <route>". */
export function traceRequests(tracer: Tracer, live: LiveSpans): MiddlewareHandler<Env> {
  return async (c, next) => {
    const method = c.req.method;
    const span = startServerSpan(tracer, method, c.req.raw.headers, {
      "http.request.method": method,
      "client.address": c.get("clientIp"),
    });
    const id = c.get("requestId");
    live.add(id, span);
    try {
      await next();
    } finally {
      live.remove(id, span);
    }
    const route = routeTaken(c);
    span.updateName(`${method} ${route}`);
    span.setAttribute("http.route", route);
    endHttpSpan(span, c.res.status);
  };
}

/** Upstreams whose calls made for a traced request are CLIENT spans of it, sending their traceparent. */
export function tracedUpstreams(upstreams: Upstreams, tracer: Tracer, live: LiveSpans): Upstreams {
  const traced = (name: string, u: Upstream): Upstream => ({
    url: u.url,
    async fetch(req, send) {
      const parent = live.of(req.headers.get(REQUEST_ID_HEADER));
      if (!parent) return u.fetch(req, send);
      const span = tracer.startSpan(
        `${req.method} ${name}`,
        { kind: SpanKind.CLIENT, attributes: { "http.request.method": req.method, "server.address": name } },
        trace.setSpan(ROOT_CONTEXT, parent),
      );
      injectSpan(req.headers, span);
      try {
        const res = await u.fetch(req, send);
        endHttpSpan(span, res.status);
        return res;
      } catch (err) {
        span.recordException({ name: (err as Error)?.name ?? "Error", message: "the upstream call failed" });
        endHttpSpan(span, 503);
        throw err;
      }
    },
  });
  return Object.fromEntries(
    Object.entries(upstreams).map(([name, u]) => [name, traced(name, u)]),
  ) as Upstreams;
}

type Runtime = {
  Deno?: { addSignalListener(signal: string, handler: () => void): void; exit(code: number): never };
  process?: { on(signal: string, handler: () => void): void; exit(code: number): never };
};

/**
 * When tracing is on: on SIGTERM or SIGINT, export the spans still buffered (for at most 2 s), then exit,
 * under Deno as under Bun and Node. With tracing off the runtime's default (exit at once) stays.
 */
export function flushOnExit(tracing: { shutdown(): Promise<void> } | undefined): void {
  if (!tracing) return;
  const g = globalThis as unknown as Runtime;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const deadline = new Promise((resolve) => setTimeout(resolve, 2000));
    void Promise.race([tracing.shutdown().catch(() => {}), deadline]).finally(() =>
      (g.Deno ?? g.process)?.exit(0),
    );
  };
  for (const signal of ["SIGTERM", "SIGINT"]) {
    if (g.Deno) g.Deno.addSignalListener(signal, stop);
    else g.process?.on(signal, stop);
  }
}
