// The OTLP/HTTP exporter against a collector stand-in: JSON by default, protobuf on request, the
// configured headers on every export, and a refused or unreachable export reported as failed.
import { afterAll, expect, test } from "bun:test";
import { SpanKind } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { OtlpHttpSpanExporter, protocolFrom } from "./otlp-exporter.ts";

interface Received {
  contentType: string | null;
  auth: string | null;
  body: Uint8Array;
}
const received: Received[] = [];
let status = 200;
const collector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    received.push({
      contentType: req.headers.get("content-type"),
      auth: req.headers.get("authorization"),
      body: new Uint8Array(await req.arrayBuffer()),
    });
    return new Response(null, { status });
  },
});
afterAll(() => collector.stop(true));
const url = `http://127.0.0.1:${collector.port}/v1/traces`;

/** Two finished spans of service "svc" to export. */
async function someSpans() {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "svc" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer("t");
  tracer
    .startSpan("pkg.Service/Method", { kind: SpanKind.SERVER, attributes: { "rpc.method": "Method" } })
    .end();
  tracer.startSpan("SELECT files").end();
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

const exported = (exporter: OtlpHttpSpanExporter, spans: Awaited<ReturnType<typeof someSpans>>) =>
  new Promise<ExportResult>((resolve) => exporter.export([...spans], resolve));

test("the protocol is JSON unless http/protobuf is asked for", () => {
  expect(protocolFrom({})).toBe("http/json");
  expect(protocolFrom({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" })).toBe("http/protobuf");
  expect(protocolFrom({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toBe("http/json");
  expect(
    protocolFrom({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
    }),
  ).toBe("http/json");
  expect(
    protocolFrom({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
    }),
  ).toBe("http/protobuf");
});

test("spans go out as JSON with the configured headers; http/protobuf sends the protobuf encoding", async () => {
  const spans = await someSpans();
  received.length = 0;
  const env = { OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-other=1" };
  const protobuf = new OtlpHttpSpanExporter(url, { ...env, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" });
  expect((await exported(protobuf, spans)).code).toBe(ExportResultCode.SUCCESS);
  const [proto] = received;
  expect([proto?.contentType, proto?.auth]).toEqual(["application/x-protobuf", "Bearer abc"]);
  const text = new TextDecoder().decode(proto?.body);
  for (const s of ["svc", "pkg.Service/Method", "SELECT files", "rpc.method"]) expect(text).toContain(s);

  expect((await exported(new OtlpHttpSpanExporter(url, env), spans)).code).toBe(ExportResultCode.SUCCESS);
  const body = JSON.parse(new TextDecoder().decode(received[1]?.body));
  const names = body.resourceSpans[0].scopeSpans[0].spans.map((s: { name: string }) => s.name);
  expect([received[1]?.contentType, names]).toEqual([
    "application/json",
    ["pkg.Service/Method", "SELECT files"],
  ]);
  expect(received[1]?.auth).toBe("Bearer abc");
});

test("a refusal, an unreachable collector and a stopped exporter are failed exports", async () => {
  const spans = await someSpans();
  status = 503;
  const refused = await exported(new OtlpHttpSpanExporter(url), spans);
  status = 200;
  expect([refused.code, refused.error?.message]).toEqual([
    ExportResultCode.FAILED,
    "the collector answered 503",
  ]);
  const nobody = await exported(new OtlpHttpSpanExporter("http://127.0.0.1:9/v1/traces"), spans);
  expect(nobody.code).toBe(ExportResultCode.FAILED);
  const stopped = new OtlpHttpSpanExporter(url);
  await stopped.shutdown();
  expect((await exported(stopped, spans)).code).toBe(ExportResultCode.FAILED);
});
