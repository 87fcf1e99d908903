// The JSON log line of the Web-standard side (the gateway; the all-in-one edge), the same shape as the
// workers' (workers/lib/log.ts): ts, level, service, msg, then the event's fields with credentials masked.
import { redactFields } from "./redact.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export function logLine(
  service: string,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown> = {},
): string {
  const { rid, ...rest } = fields;
  return JSON.stringify({
    ts: new Date().toISOString(),
    level,
    service,
    msg,
    ...(rid === undefined ? {} : { request_id: rid }),
    ...redactFields(rest),
  });
}

/** The fields of an access-log line (ACCESS_LOG=1): never a query string, only the route template. */
export interface Access {
  method: string;
  route: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  startedMs: number;
  client: string;
  requestId: string;
  traceId?: string;
  spanId?: string;
}

/** An access-log line's fields (declared lengths: bodies stream through uncounted). */
export const accessFields = (a: Access, nowMs: number): Record<string, unknown> => ({
  rid: a.requestId || undefined,
  ...(a.traceId ? { trace_id: a.traceId, span_id: a.spanId } : {}),
  method: a.method,
  route: a.route,
  status: a.status,
  bytes_in: a.bytesIn,
  bytes_out: a.bytesOut,
  duration_ms: Math.round((nowMs - a.startedMs) * 10) / 10,
  client: a.client,
});

/**
 * `res` with `done(bytes)` called once its body has been sent (or cut: then `completed` is false): a
 * declared Content-Length or a Blob body is taken as it is, any other body is counted as it streams.
 */
export function whenSent(res: Response, done: (bytes: number, completed: boolean) => void): Response {
  const declared = res.headers.get("content-length");
  if (!res.body || declared !== null) {
    done(Number(declared ?? 0), true);
    return res;
  }
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush: () => done(bytes, true),
    cancel: () => done(bytes, false),
  } as Transformer<Uint8Array, Uint8Array>);
  return new Response(res.body.pipeThrough(counter), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
