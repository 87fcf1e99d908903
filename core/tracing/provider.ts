// Installs tracing from the standard OTEL_* settings: an OTLP/HTTP exporter (protobuf, or JSON with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json: otlp-exporter.ts) behind a batching span
// processor, when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; nothing at
// all otherwise (no provider, no tracer: the span wrappers see none and step aside). The OpenTelemetry
// packages used here run unchanged on Deno, Bun and Node (the gateway runs this under Deno).
import { type ContextManager, context } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { OtlpHttpSpanExporter } from "./otlp-exporter.ts";
import { useTracer } from "./tracer.ts";
import { tracesUrl } from "./traces-url.ts";

export { tracesUrl };

type Env = Record<string, string | undefined>;

export interface TracingOptions {
  /** The environment (OTEL_*), read by the caller: core/ reaches no runtime's globals itself. */
  env: Env;
  /** service.name unless OTEL_SERVICE_NAME says otherwise. */
  service: string;
  /** Carries the active span across awaits (workers: AsyncLocalStorage); none in the gateway. */
  contextManager?: ContextManager;
  /** Tests: where spans go instead of OTLP/HTTP. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports what is buffered and stops: on shutdown, before the process exits. */
  shutdown(): Promise<void>;
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the standard names; default parentbased_always_on). */
export function samplerFrom(env: Env): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const arg = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1;
  switch (env.OTEL_TRACES_SAMPLER) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(arg);
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(arg) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

const positive = (v: string | undefined): number | undefined => (Number(v) > 0 ? Number(v) : undefined);

/** Tracing as the environment says: installed and returned, or undefined (and nothing installed). */
export function startTracing(opts: TracingOptions): Tracing | undefined {
  const url = tracesUrl(opts.env);
  if (!url && !opts.exporter) return undefined;
  const exporter = opts.exporter ?? new OtlpHttpSpanExporter(url as string, opts.env);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": opts.env.OTEL_SERVICE_NAME || opts.service }),
    sampler: samplerFrom(opts.env),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: positive(opts.env.OTEL_BSP_SCHEDULE_DELAY),
        maxQueueSize: positive(opts.env.OTEL_BSP_MAX_QUEUE_SIZE),
        maxExportBatchSize: positive(opts.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
      }),
    ],
  });
  if (opts.contextManager) context.setGlobalContextManager(opts.contextManager.enable());
  useTracer(provider.getTracer("filestore"));
  return {
    async shutdown() {
      useTracer(undefined);
      await provider.shutdown();
      if (opts.contextManager) context.disable();
    },
  };
}
