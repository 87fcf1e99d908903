// Tracing in a worker process (or the all-in-one one): started first in its main.ts, before anything
// opens a store or a database, so that they are opened traced; flushed on shutdown. The active span
// follows awaits through AsyncLocalStorage. Off (nothing installed) unless OTEL_EXPORTER_OTLP_ENDPOINT is set;
// the OpenTelemetry SDK (~10 MiB resident) is then not even loaded.
import type { Tracing } from "../../../core/tracing/provider.ts";
import { tracesUrl } from "../../../core/tracing/traces-url.ts";

let tracing: Tracing | undefined;

/** Starts tracing for `service` (service.name unless OTEL_SERVICE_NAME is set) when the environment asks. */
export async function startWorkerTracing(service: string): Promise<void> {
  if (tracing || !tracesUrl(process.env)) return;
  const [{ AsyncLocalStorageContextManager }, { startTracing }] = await Promise.all([
    import("@opentelemetry/context-async-hooks"),
    import("../../../core/tracing/provider.ts"),
  ]);
  tracing ??= startTracing({
    env: process.env,
    service,
    contextManager: new AsyncLocalStorageContextManager(),
  });
}

/** Exports the spans still buffered and stops (shutdown). */
export async function stopWorkerTracing(): Promise<void> {
  const t = tracing;
  tracing = undefined;
  await t?.shutdown();
}

export { traceHttp } from "./http.ts";
export { traceCalls, traceServedCalls } from "./rpc.ts";
