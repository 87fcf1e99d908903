import { expect, test } from "bun:test";
import { samplerFrom, startTracing, tracesUrl } from "./provider.ts";
import { activeTracer } from "./tracer.ts";

test("tracing is off (nothing installed) unless an OTLP endpoint is set, and the standard switches turn it off", () => {
  expect(tracesUrl({})).toBeUndefined();
  expect(startTracing({ env: {}, service: "x" })).toBeUndefined();
  expect(activeTracer()).toBeUndefined();
  expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toBe("http://c:4318/v1/traces");
  expect(
    tracesUrl({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t/x",
    }),
  ).toBe("http://t/x");
  expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_SDK_DISABLED: "true" })).toBeUndefined();
  expect(
    tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_TRACES_EXPORTER: "none" }),
  ).toBeUndefined();
});

test("the sampler follows OTEL_TRACES_SAMPLER (parent-based, always on, by default)", () => {
  expect(samplerFrom({}).toString()).toContain("ParentBased{root=AlwaysOnSampler");
  expect(samplerFrom({ OTEL_TRACES_SAMPLER: "always_off" }).toString()).toBe("AlwaysOffSampler");
  expect(
    samplerFrom({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    }).toString(),
  ).toContain("TraceIdRatioBased{0.25}");
});

test("with an endpoint, a tracer is installed until shutdown", async () => {
  const tracing = startTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" }, service: "t" });
  expect(activeTracer()).toBeDefined();
  await tracing?.shutdown();
  expect(activeTracer()).toBeUndefined();
});
