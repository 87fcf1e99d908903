// Spans of Connect calls between services, after the OpenTelemetry RPC semantic conventions: a SERVER span
// per call served (a child of the caller's `traceparent`) and a CLIENT span per call made (whose context
// goes out in `traceparent`), named "<package.Service>/<Method>" with rpc.system, rpc.service,
// rpc.method and the status (rpc.grpc.status_code or rpc.connect_rpc.error_code). With tracing off both
// interceptors only call on.

import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { type Attributes, type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import {
  activeTracer,
  contextFrom,
  injectActive,
  injectSpan,
  withSpan,
} from "../../../core/tracing/tracer.ts";
import { recordSpan } from "./record.ts";

// Codes that are the server's failure, not the caller's (semantic conventions, gRPC server spans).
const serverFaults = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

const snake = (code: Code): string =>
  (Code[code] ?? "unknown").replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase();

interface CallShape {
  service: { typeName: string };
  method: { name: string };
  header: Headers;
}

interface Named {
  name: string;
  connect: Attributes;
  grpc: Attributes;
}

/**
 * The span name and attributes of a method, made once per method rather than per call (the SDK copies the
 * attributes into each span, so sharing them is safe; frozen all the same).
 */
const names = new WeakMap<object, Named>();
function namedFor(req: CallShape): Named {
  let n = names.get(req.method);
  if (!n) {
    const base = { "rpc.service": req.service.typeName, "rpc.method": req.method.name };
    n = {
      name: `${req.service.typeName}/${req.method.name}`,
      connect: Object.freeze({ "rpc.system": "connect_rpc", ...base }),
      grpc: Object.freeze({ "rpc.system": "grpc", ...base }),
    };
    names.set(req.method, n);
  }
  return n;
}

function end(span: Span, grpc: boolean, err: unknown, server: boolean): void {
  const code = err === undefined ? undefined : ConnectError.from(err).code;
  if (grpc) span.setAttribute("rpc.grpc.status_code", code ?? 0);
  else if (code !== undefined) span.setAttribute("rpc.connect_rpc.error_code", snake(code));
  if (code !== undefined && (!server || serverFaults.has(code))) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: Code[code] });
  }
  span.end();
}

/** A streamed answer whose span ends with the stream, each step run with the span active. */
function ending(res: StreamResponse, span: Span, grpc: boolean, server: boolean): StreamResponse {
  const inner = res.message[Symbol.asyncIterator]();
  return {
    ...res,
    message: (async function* () {
      try {
        for (;;) {
          const r = await withSpan(span, () => inner.next());
          if (r.done) break;
          yield r.value;
        }
        end(span, grpc, undefined, server);
      } catch (err) {
        end(span, grpc, err, server);
        throw err;
      }
    })(),
  } as StreamResponse;
}

const isGrpc = (h: Headers) => (h.get("content-type") ?? "").startsWith("application/grpc");

function traced(tracer: Tracer, server: boolean): Interceptor {
  return (next) => async (req) => {
    const grpc = server ? isGrpc(req.header) : false;
    const named = namedFor(req);
    const name = named.name;
    const attributes = grpc ? named.grpc : named.connect;
    const span = server
      ? tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, contextFrom(req.header))
      : tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
    if (server) recordSpan(span);
    else injectSpan(req.header, span);
    try {
      const res = await withSpan(span, () => next(req));
      if (res.stream) return ending(res, span, grpc, server);
      end(span, grpc, undefined, server);
      return res;
    } catch (err) {
      end(span, grpc, err, server);
      throw err;
    }
  };
}

/** Server side: a SERVER span per call, continuing the caller's trace. First in the interceptor list. */
export function traceServedCalls(): Interceptor {
  return (next) => {
    const tracer = activeTracer();
    return tracer ? traced(tracer, true)(next) : next;
  };
}

/** Client side: a CLIENT span per call, its context sent in `traceparent`. */
export function traceCalls(): Interceptor {
  return (next) => {
    const tracer = activeTracer();
    return tracer ? traced(tracer, false)(next) : next;
  };
}

/**
 * Client side of a call that stays in the process (the in-memory transport of all-in-one): no CLIENT span,
 * only the caller's context in `traceparent`, so that the SERVER span the served side makes is the call's
 * one span, a child of the caller's. A CLIENT span there would time the same work again: it doubled the
 * spans (and the cost of tracing) of every in-process meta call.
 */
export function propagateCalls(): Interceptor {
  return (next) => (req) => {
    if (activeTracer()) injectActive(req.header);
    return next(req);
  };
}
