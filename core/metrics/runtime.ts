// Process health the Web-standard way, for the gateway under Deno, Bun or Node (the workers have
// prom-client's default metrics): resident memory and heap where the runtime reports them, and event-loop
// lag measured by a timer's drift (a timer due every 500 ms that fires late shows how long the loop was busy).
import type { MetricsRegistry } from "./registry.ts";

interface MemoryUsage {
  rss: number;
  heapUsed: number;
}

function memoryUsage(): MemoryUsage | undefined {
  const g = globalThis as unknown as {
    Deno?: { memoryUsage?: () => MemoryUsage };
    process?: { memoryUsage?: () => MemoryUsage };
  };
  return g.Deno?.memoryUsage?.() ?? g.process?.memoryUsage?.();
}

const LAG_INTERVAL_MS = 500;

/**
 * Event-loop lag for every process (filestore_event_loop_lag_seconds: the latest drift); returns a stop
 * function. The timer does not keep a process alive where the runtime allows (unref).
 */
export function eventLoopLag(registry: MetricsRegistry, service: string): () => void {
  const lag = registry.gauge(
    "filestore_event_loop_lag_seconds",
    "How late a timer due every 500 ms last fired: time the event loop was busy",
    ["service"],
  );
  let due = performance.now() + LAG_INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lag.set([service], Math.max(0, now - due) / 1000);
    due = now + LAG_INTERVAL_MS;
  }, LAG_INTERVAL_MS);
  (timer as unknown as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}

/** Memory gauges read at each scrape, under prom-client's names (one dashboard for every process). */
export function runtimeMetrics(registry: MetricsRegistry, service: string): () => void {
  const rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes", ["service"]);
  const heap = registry.gauge("process_heap_bytes", "Heap in use, in bytes", ["service"]);
  registry.onCollect(() => {
    const m = memoryUsage();
    if (!m) return;
    rss.set([service], m.rss);
    heap.set([service], m.heapUsed);
  });
  return eventLoopLag(registry, service);
}
