// The gateway's spans: a SERVER span per request (continuing a client's traceparent), and a CLIENT span
// per call to a worker, whose context the worker receives in traceparent; and the access-log line.
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { SpanKind, trace } from "@opentelemetry/api";
import type { AccessTokenVerifier, Identity } from "../../core/access-token.ts";
import { recordSpans } from "../../core/tracing/testing.ts";
import { createGateway } from "../app.ts";
import { LiveSpans } from "../tracing.ts";
import type { Upstreams } from "../upstreams.ts";

const verifier: AccessTokenVerifier = {
  async verify(): Promise<Identity> {
    return { userId: "u1", username: "alice", exp: 2e9 };
  },
};

/** Upstreams that answer 200 and keep the requests they were sent. */
function fakeUpstreams() {
  const sent: Request[] = [];
  const upstream = {
    url: "http://worker",
    fetch: async (req: Request) => {
      sent.push(req);
      return Response.json({}, { headers: { "content-length": "2" } });
    },
  };
  const upstreams = Object.fromEntries(
    ["account", "file", "upload", "download", "transfer"].map((n) => [n, upstream]),
  ) as unknown as Upstreams;
  return { upstreams, sent };
}

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const call = (app: ReturnType<typeof createGateway>, headers: Record<string, string> = {}) =>
  app.request("/filestore.account.v1.AccountService/Signin?token=secret-in-query", {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "rid-7", ...headers },
    body: "{}",
  });

let recording: ReturnType<typeof recordSpans> | undefined;
afterEach(async () => {
  await recording?.stop();
  recording = undefined;
});

describe("gateway traces", () => {
  test("a request continues the client's trace; the worker gets the gateway's call as its parent", async () => {
    recording = recordSpans();
    const { upstreams, sent } = fakeUpstreams();
    const app = createGateway({ upstreams, issuer: "filestore", corsOrigins: "*", verifier });
    const res = await call(app, { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` });
    expect(res.status).toBe(200);
    const spans = recording.spans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    const client = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(server?.name).toBe("POST /filestore.account.v1.AccountService/Signin");
    expect([server?.spanContext().traceId, server?.parentSpanContext?.spanId]).toEqual([TRACE, CLIENT_SPAN]);
    expect(server?.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/filestore.account.v1.AccountService/Signin",
      "http.response.status_code": 200,
    });
    expect(JSON.stringify(server?.attributes)).not.toContain("secret-in-query");
    expect([client?.name, client?.parentSpanContext?.spanId]).toEqual([
      "POST account",
      server?.spanContext().spanId,
    ]);
    expect(sent[0]?.headers.get("traceparent")).toBe(`00-${TRACE}-${client?.spanContext().spanId}-01`);
  });

  test("a request without traceparent starts a trace; with tracing off the client's passes through", async () => {
    recording = recordSpans();
    const traced = fakeUpstreams();
    await call(createGateway({ upstreams: traced.upstreams, issuer: "f", corsOrigins: "*", verifier }));
    const [root] = recording.spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(root?.parentSpanContext).toBeUndefined();
    await recording.stop();
    recording = undefined;
    const plain = fakeUpstreams();
    const given = `00-${TRACE}-${CLIENT_SPAN}-01`;
    await call(createGateway({ upstreams: plain.upstreams, issuer: "f", corsOrigins: "*", verifier }), {
      traceparent: given,
    });
    expect(plain.sent[0]?.headers.get("traceparent")).toBe(given);
  });

  test("ACCESS_LOG: one JSON line per request, with the route, not the URL, and the trace", async () => {
    const lines: string[] = [];
    const spy = spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const { upstreams } = fakeUpstreams();
      const app = createGateway({ upstreams, issuer: "f", corsOrigins: "*", verifier, accessLog: true });
      await (await call(app, { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` })).text();
    } finally {
      spy.mockRestore();
    }
    const access = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "access");
    expect(access).toMatchObject({
      level: "info",
      service: "gateway",
      request_id: "rid-7",
      trace_id: TRACE,
      method: "POST",
      route: "/filestore.account.v1.AccountService/Signin",
      status: 200,
      bytes_in: 0,
      bytes_out: 2,
    });
    expect(lines.join("\n")).not.toContain("secret-in-query");
  });

  test("requests in progress under one id are ambiguous: their calls join neither trace", () => {
    recording = recordSpans();
    const tracer = trace.getTracer("t");
    const [a, b] = [tracer.startSpan("a"), tracer.startSpan("b")];
    const live = new LiveSpans();
    live.add("rid", a);
    expect(live.of("rid")).toBe(a);
    live.add("rid", b);
    expect(live.of("rid")).toBeUndefined();
    live.remove("rid", a);
    expect([live.of("rid"), live.of(null), live.of("other")]).toEqual([undefined, undefined, undefined]);
  });
});
