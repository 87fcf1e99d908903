// The metrics of one worker process (or of the all-in-one process): a prom-client registry for the
// domain and process metrics, beside the Web-standard registry (core/metrics/) that the HTTP middleware
// and the RPC interceptor (hot paths: no label hashing per event) share with the gateway. A scrape
// writes both; their names never overlap. Each component records with a
// `service` label: its own name in services mode, and in all-in-one the name of the worker it belongs to
// (`forService`), so that one /metrics serves the whole process.
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from "prom-client";
import { type HttpMetrics, httpMetrics } from "../../../core/metrics/http.ts";
import { MetricsRegistry } from "../../../core/metrics/registry.ts";
import { eventLoopLag } from "../../../core/metrics/runtime.ts";

export { DURATION_BUCKETS } from "../../../core/metrics/registry.ts";

export interface Metrics {
  /** The `service` label of what this view records. */
  readonly service: string;
  readonly prom: Registry;
  readonly core: MetricsRegistry;
  /** Plain HTTP requests of this service (data planes, JWKS). */
  readonly http: HttpMetrics;
  /** The same registries, recording as `service` (all-in-one: one view per worker). */
  forService(service: string): Metrics;
  /** The exposition text of every registry of the process. */
  text(): Promise<string>;
  /** Every metric name registered (tests compare dashboards and alert rules with it). */
  names(): string[];
}

function view(service: string, prom: Registry, core: MetricsRegistry): Metrics {
  return {
    service,
    prom,
    core,
    http: httpMetrics(core, service),
    forService: (other) => view(other, prom, core),
    async text() {
      const a = await prom.metrics();
      const b = core.text();
      return a.endsWith("\n") || a === "" ? a + b : `${a}\n${b}`;
    },
    names: () => [
      ...prom.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name),
      ...core.names(),
    ],
  };
}

const ZERO_UNDER_BUN = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/**
 * A process's metrics: prom-client's default process metrics (CPU, resident memory, heap, open file
 * descriptors, event-loop lag: all work under Bun; the active handle counts read 0 there and are dropped) with a `service`
 * label, and the event-loop lag gauge every process shares with the gateway.
 */
export function createProcessMetrics(service: string): Metrics & { close(): void } {
  const prom = new Registry();
  collectDefaultMetrics({ register: prom, labels: { service } });
  // Gauges named like counters (promtool refuses the names) that Bun does not fill (always 0): dropped.
  for (const name of ZERO_UNDER_BUN) prom.removeSingleMetric(name);
  const core = new MetricsRegistry();
  // A process's own timer: stopped by close() where the process outlives it (all-in-one's stop()).
  const stopLag = eventLoopLag(core, service);
  return { ...view(service, prom, core), close: stopLag };
}

/** Metrics without process collectors (unit tests, benchmarks). */
export function createMetrics(service: string): Metrics {
  return view(service, new Registry(), new MetricsRegistry());
}

// One family per name and registry, whoever asks first (several workers of all-in-one share families).
function family<M extends Metric>(prom: Registry, name: string, make: () => M): M {
  return (prom.getSingleMetric(name) as M | undefined) ?? make();
}

export function counter<L extends string>(m: Metrics, name: string, help: string, labelNames: L[]) {
  return family(m.prom, name, () => new Counter({ name, help, labelNames, registers: [m.prom] }));
}

export function gauge<L extends string>(m: Metrics, name: string, help: string, labelNames: L[]) {
  return family(m.prom, name, () => new Gauge({ name, help, labelNames, registers: [m.prom] }));
}

export function histogram<L extends string>(
  m: Metrics,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
) {
  return family(m.prom, name, () => new Histogram({ name, help, labelNames, buckets, registers: [m.prom] }));
}
