// Whether tracing is on, from the standard OTEL_* settings alone: kept apart from provider.ts so that a
// process can ask without loading the OpenTelemetry SDK (workers load it only when tracing is on).

type Env = Record<string, string | undefined>;

/** The OTLP/HTTP traces URL the settings name, or undefined: tracing off. */
export function tracesUrl(env: Env): string | undefined {
  if (env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}
