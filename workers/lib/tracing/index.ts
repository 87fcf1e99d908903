// Tracing in a worker process (or the all-in-one one): started first in its main.ts, before anything
// opens a store or a database, so that they are opened traced; flushed on shutdown. The active span
// follows awaits through AsyncLocalStorage. Off (nothing installed) unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { startTracing, type Tracing } from "../../../core/tracing/provider.ts";

let tracing: Tracing | undefined;

/** Starts tracing for `service` (service.name unless OTEL_SERVICE_NAME is set) when the environment asks. */
export function startWorkerTracing(service: string): void {
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
