// Spans of Connect calls (client and server interceptors over an in-memory transport, as the all-in-one
// process calls its services), of queue deliveries, and nothing at all with tracing off.
import { afterEach, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { recordSpans } from "../../../core/tracing/testing.ts";
import { activeTracer } from "../../../core/tracing/tracer.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../../proto/gen/grpc/health/v1/health_pb.ts";
import { memoryTransport } from "../clients.ts";
import type { Message } from "../queue/types.ts";
import type { ServiceModule } from "../server.ts";
import { traceHttp } from "./http.ts";
import { traceDelivery } from "./job.ts";
import { traceCalls, traceServedCalls } from "./rpc.ts";

/** A Health service whose Check answers per the service name asked: "", "missing" (NotFound), "broken". */
const module: ServiceModule = {
  services: [Health],
  routes(router) {
    router.service(Health, {
      async check(req) {
        await Bun.sleep(1); // across an await, the served call's span stays the active one
        activeTracer()?.startSpan("inside the handler").end();
        if (req.service === "missing") throw new ConnectError("no such service", Code.NotFound);
        if (req.service === "broken") throw new ConnectError("it broke", Code.Internal);
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      },
      async *watch() {},
      async list() {
        return { statuses: {} };
      },
    });
  },
};
/** A client as over the network: a CLIENT span per call made, a SERVER span per call served. */
const client = () =>
  createClient(
    Health,
    createRouterTransport((router) => module.routes(router), {
      router: { interceptors: [traceServedCalls()] },
      transport: { interceptors: [traceCalls()] },
    }),
  );
/** A client in the process (all-in-one's meta client): the served side's span is the call's one span. */
const inProcess = () => createClient(Health, memoryTransport(module, [traceServedCalls()], "secret"));

let recording: ReturnType<typeof recordSpans> | undefined;
afterEach(async () => {
  await recording?.stop();
  recording = undefined;
});

describe("RPC spans", () => {
  test("a call is a CLIENT span and a SERVER span under it, named and attributed per the conventions", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    await client().check({ service: "" });
    const spans = recording.spans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    const caller = spans.find((s) => s.kind === SpanKind.CLIENT);
    const inner = spans.find((s) => s.name === "inside the handler");
    expect([server?.name, caller?.name]).toEqual([
      "grpc.health.v1.Health/Check",
      "grpc.health.v1.Health/Check",
    ]);
    expect(server?.attributes).toEqual({
      "rpc.system": "connect_rpc",
      "rpc.service": "grpc.health.v1.Health",
      "rpc.method": "Check",
    });
    expect(server?.spanContext().traceId).toBe(caller?.spanContext().traceId as string);
    expect(server?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId as string);
    expect(inner?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId as string);
    expect(server?.status.code).toBe(SpanStatusCode.UNSET);
  });

  test("in the process a call is one SERVER span, a child of the caller's active span", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    const tracer = activeTracer();
    const caller = tracer?.startSpan("caller");
    await context.with(trace.setSpan(context.active(), caller as Span), () =>
      inProcess().check({ service: "" }),
    );
    caller?.end();
    const spans = recording.spans();
    expect(spans.filter((s) => s.kind === SpanKind.CLIENT)).toEqual([]);
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    expect(server?.name).toBe("grpc.health.v1.Health/Check");
    expect(server?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId as string);
    expect(server?.spanContext().traceId).toBe(caller?.spanContext().traceId as string);
    const inner = spans.find((s) => s.name === "inside the handler");
    expect(inner?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId as string);
  });

  test("the status comes from the Connect code: a caller's mistake is no server error, a failure is", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    await expect(client().check({ service: "missing" })).rejects.toThrow("no such service");
    const [notFound] = recording.spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(notFound?.attributes["rpc.connect_rpc.error_code"]).toBe("not_found");
    expect(notFound?.status.code).toBe(SpanStatusCode.UNSET);
    expect(recording.spans().find((s) => s.kind === SpanKind.CLIENT)?.status.code).toBe(SpanStatusCode.ERROR);
    recording.reset();
    await expect(client().check({ service: "broken" })).rejects.toThrow("it broke");
    const [internal] = recording.spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(internal?.attributes["rpc.connect_rpc.error_code"]).toBe("internal");
    expect(internal?.status.code).toBe(SpanStatusCode.ERROR);
  });

  test("with tracing off there are no spans and no traceparent, and calls work as before", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    await recording.stop();
    const seen: (string | null)[] = [];
    const spy = createClient(
      Health,
      memoryTransport(
        module,
        [
          (next) => (req) => {
            seen.push(req.header.get("traceparent"));
            return next(req);
          },
          traceServedCalls(),
        ],
        "s",
      ),
    );
    expect((await spy.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(seen).toEqual([null]);
    expect(recording.spans()).toEqual([]);
    recording = undefined;
  });
});

describe("queue deliveries", () => {
  const message = (trace: string): Message => ({
    id: "1",
    key: "k",
    body: "b",
    trace,
    attempt: 2,
    firstAttemptAt: 0,
    consumer: "c",
  });

  test("a delivery continues the trace its message carries; its work runs under its span", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const outcome = await traceDelivery(
      "transfer",
      message(`00-${traceId}-b7ad6b7169203331-01`),
      async () => {
        await Bun.sleep(1);
        activeTracer()?.startSpan("copy").end();
        return "moved";
      },
    );
    expect(outcome).toBe("moved");
    const [copy, job] = recording.spans();
    expect([job?.name, job?.kind, job?.attributes["filestore.job.outcome"]]).toEqual([
      "process transfer",
      SpanKind.CONSUMER,
      "moved",
    ]);
    expect([job?.spanContext().traceId, job?.parentSpanContext?.spanId]).toEqual([
      traceId,
      "b7ad6b7169203331",
    ]);
    expect(copy?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId as string);
  });

  test("an untraced message starts no trace", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    expect(await traceDelivery("transfer", message(""), async () => trace.getActiveSpan())).toBeUndefined();
    expect(recording.spans()).toEqual([]);
  });
});

describe("data-plane requests", () => {
  const path = "/download/v1/files/f-1";
  const request = (headers: Record<string, string> = {}) =>
    new Request(`http://127.0.0.1${path}?inline=1`, { headers });

  test("an answer ready at once stays synchronous; its span is named by the route, never the path", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    const answer = new Response("x", { status: 206 });
    const res = traceHttp(request(), path, () => answer);
    expect(res).toBe(answer);
    traceHttp(request(), path, () => new Response(null, { status: 200 }));
    const [first, second] = recording.spans();
    expect([first?.name, first?.kind, first?.attributes]).toEqual([
      "GET /download/v1/files/{id}",
      SpanKind.SERVER,
      {
        "http.request.method": "GET",
        "http.route": "/download/v1/files/{id}",
        "http.response.status_code": 206,
      },
    ]);
    // Each span has its own attributes, though the route's are made once.
    expect(second?.attributes["http.response.status_code"]).toBe(200);
    expect(first?.spanContext().spanId).not.toBe(second?.spanContext().spanId as string);
  });

  test("an answer that waits: the span is the active one across awaits and ends with the answer", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const res = traceHttp(request({ traceparent: `00-${traceId}-b7ad6b7169203331-01` }), path, async () => {
      await Bun.sleep(1);
      activeTracer()?.startSpan("lookup").end();
      expect(recording?.spans().some((s) => s.kind === SpanKind.SERVER)).toBe(false); // not ended yet
      return new Response(null, { status: 503 });
    });
    expect(res).toBeInstanceOf(Promise);
    expect((await res).status).toBe(503);
    const [lookup, server] = recording.spans();
    expect([server?.spanContext().traceId, server?.parentSpanContext?.spanId]).toEqual([
      traceId,
      "b7ad6b7169203331",
    ]);
    expect(lookup?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId as string);
    expect(server?.status.code).toBe(SpanStatusCode.ERROR); // a 5xx is the server's failure
  });

  test("a handler that throws or rejects ends its span as an error and passes the error on", async () => {
    recording = recordSpans(new AsyncLocalStorageContextManager());
    expect(() =>
      traceHttp(request(), path, () => {
        throw new TypeError("broken");
      }),
    ).toThrow("broken");
    await expect(
      traceHttp(request(), "/upload/v1/files", async () => {
        throw new RangeError("gone");
      }),
    ).rejects.toThrow("gone");
    const [thrown, rejected] = recording.spans();
    expect([thrown?.status, rejected?.status]).toEqual([
      { code: SpanStatusCode.ERROR, message: "TypeError" },
      { code: SpanStatusCode.ERROR, message: "RangeError" },
    ]);
    expect(rejected?.name).toBe("GET /upload/v1/files");
  });

  test("with tracing off the handler's answer is passed on as it is", async () => {
    const answer = new Response("x");
    expect(traceHttp(request(), path, () => answer)).toBe(answer);
  });
});
