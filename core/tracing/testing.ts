// Test helper: tracing on, spans kept in memory and handed out as they end (no OTLP, no batching).
import { type ContextManager, context } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { useTracer } from "./tracer.ts";

/** Turns tracing on until stop(); `contextManager` (workers: AsyncLocalStorage) carries spans over awaits. */
export function recordSpans(contextManager?: ContextManager) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  if (contextManager) context.setGlobalContextManager(contextManager.enable());
  useTracer(provider.getTracer("test"));
  return {
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async stop() {
      useTracer(undefined);
      if (contextManager) context.disable();
      await provider.shutdown();
    },
  };
}
