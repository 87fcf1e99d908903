// The gateway's log: JSON lines on stderr (core/log-line.ts), and with ACCESS_LOG=1 an access-log line per
// request (method, route template, status, declared bytes, duration, client, request and trace ids).
import { trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { accessFields, type LogLevel, logLine, whenSent } from "../core/log-line.ts";
import { contextFrom } from "../core/tracing/tracer.ts";
import { type LiveSpans, routeTaken } from "./tracing.ts";

/** One line on stderr. */
export function log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  console.error(logLine("gateway", level, msg, fields));
}

type Env = { Variables: { clientIp: string; requestId: string } };

const length = (v: string | null | undefined): number => Math.max(0, Number(v) || 0);

/**
 * Middleware (after the request id and the trace span): the access-log line when the response is ready.
 * Its trace ids are the gateway's span's, else (tracing off) the trace the client named in traceparent.
 */
export function accessLog(live?: LiveSpans): MiddlewareHandler<Env> {
  return async (c, next) => {
    const startedMs = performance.now();
    const id = c.get("requestId");
    const sc = (live?.of(id) ?? trace.getSpan(contextFrom(c.req.raw.headers)))?.spanContext();
    await next();
    const route = routeTaken(c);
    c.res = whenSent(c.res, (bytesOut, completed) =>
      log("info", "access", {
        ...accessFields(
          {
            method: c.req.method,
            route,
            status: c.res.status,
            bytesIn: length(c.req.header("content-length")),
            bytesOut,
            startedMs,
            client: c.get("clientIp"),
            requestId: id,
            traceId: sc?.traceId,
            spanId: sc?.spanId,
          },
          performance.now(),
        ),
        ...(completed ? {} : { completed }),
      }),
    );
  };
}
