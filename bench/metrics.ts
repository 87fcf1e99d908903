// `npm run bench:metrics`: what one scrape costs with about 1 000 series. Three figures from one run:
//   baseline  prom-client's Registry.metrics() alone, every series in it (no HTTP)
//   ours      GET /metrics on a worker's port (listen() + RpcHost, as in production), the same number of
//             series split between prom-client (RPC, domain, process) and the Web-standard registry
//             (HTTP middleware, core/metrics/) as the workers split them
//   gateway   the Web-standard registry alone (the gateway's writer), every series in it
// Prints the median and p99 of each and the ratio of ours to the baseline. The target: ours under 20 ms.
// Env: BENCH_SCRAPES (default 300) scrapes per measurement.
import { Counter, Histogram, Registry } from "prom-client";
import { MetricsRegistry } from "../core/metrics/registry.ts";
import type { Logger } from "../workers/lib/log.ts";
import {
  counter,
  createMetrics,
  DURATION_BUCKETS,
  histogram,
  type Metrics,
} from "../workers/lib/metrics/registry.ts";
import { listen } from "../workers/lib/server.ts";
import { hostFor } from "../workers/lib/worker.ts";

const SCRAPES = Number(process.env.BENCH_SCRAPES || 300);
const TARGET_MS = 20;
/** Label combinations: 45 RPC histograms + 12 HTTP histograms (17 series each) + 24 counters ≈ 1 000. */
const RPC_COMBOS = 45;
const HTTP_COMBOS = 12;
const COUNTERS = 24;

const rpcLabels = (i: number) => ({
  service: "upload",
  rpc_system: ["connect_rpc", "grpc", "grpc_web"][i % 3] as string,
  rpc_service: "filestore.upload.v1.UploadService",
  rpc_method: `Method${Math.floor(i / 3)}`,
  code: "ok",
});
const httpLabels = (i: number) => ["upload", ["PUT", "POST", "GET"][i % 3] as string, `/route/${i}`, "200"];

/** Fills a Metrics view the way a worker does: RPC and domain series in prom-client, HTTP in core. */
function fillOurs(m: Metrics): void {
  const rpc = histogram(
    m,
    "filestore_rpc_server_duration_seconds",
    "RPCs",
    Object.keys(rpcLabels(0)),
    DURATION_BUCKETS,
  );
  for (let i = 0; i < RPC_COMBOS; i++) rpc.observe(rpcLabels(i), 0.01 * i);
  const c = counter(m, "filestore_bench_events_total", "Events", ["service", "event"]);
  for (let i = 0; i < COUNTERS; i++) c.inc({ service: "upload", event: `e${i}` }, i);
  const http = m.core.histogram("filestore_http_server_duration_seconds", "HTTP", [
    "service",
    "method",
    "route",
    "status",
  ]);
  for (let i = 0; i < HTTP_COMBOS; i++) http.observe(httpLabels(i), 0.02 * i);
}

/** The same series, all in one prom-client registry. */
function fillBaseline(): Registry {
  const r = new Registry();
  const rpc = new Histogram({
    name: "filestore_rpc_server_duration_seconds",
    help: "RPCs",
    labelNames: Object.keys(rpcLabels(0)),
    buckets: DURATION_BUCKETS,
    registers: [r],
  });
  for (let i = 0; i < RPC_COMBOS; i++) rpc.observe(rpcLabels(i), 0.01 * i);
  const c = new Counter({
    name: "filestore_bench_events_total",
    help: "Events",
    labelNames: ["service", "event"],
    registers: [r],
  });
  for (let i = 0; i < COUNTERS; i++) c.inc({ service: "upload", event: `e${i}` }, i);
  const http = new Histogram({
    name: "filestore_http_server_duration_seconds",
    help: "HTTP",
    labelNames: ["service", "method", "route", "status"],
    buckets: DURATION_BUCKETS,
    registers: [r],
  });
  for (let i = 0; i < HTTP_COMBOS; i++) {
    const [service, method, route, status] = httpLabels(i) as [string, string, string, string];
    http.observe({ service, method, route, status }, 0.02 * i);
  }
  return r;
}

function fillGateway(): MetricsRegistry {
  const r = new MetricsRegistry();
  const rpc = r.histogram("filestore_rpc_server_duration_seconds", "RPCs", Object.keys(rpcLabels(0)));
  for (let i = 0; i < RPC_COMBOS; i++) rpc.observe(Object.values(rpcLabels(i)), 0.01 * i);
  const c = r.counter("filestore_bench_events_total", "Events", ["service", "event"]);
  for (let i = 0; i < COUNTERS; i++) c.inc(["upload", `e${i}`], i);
  const http = r.histogram("filestore_http_server_duration_seconds", "HTTP", [
    "service",
    "method",
    "route",
    "status",
  ]);
  for (let i = 0; i < HTTP_COMBOS; i++) http.observe(httpLabels(i), 0.02 * i);
  return r;
}

const seriesIn = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("#")).length;

async function measure(
  scrape: () => Promise<string> | string,
): Promise<{ median: number; p99: number; series: number }> {
  let series = 0;
  for (let i = 0; i < 20; i++) series = seriesIn(await scrape()); // warm-up
  const times: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const t = performance.now();
    await scrape();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
  return { median: at(0.5), p99: at(0.99), series };
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const ours = createMetrics("upload");
fillOurs(ours);
const host = hostFor({
  config: {
    maxRpcBytes: 1 << 20,
    trustedProxies: [],
    internalSecret: undefined,
    metricsToken: undefined,
    accessLog: false,
  },
  modules: [],
  verifier: { verify: async () => Promise.reject(new Error("no tokens")) },
  log: quiet,
  metrics: ours,
});
const listener = await listen(host.node, "127.0.0.1", 0);
const url = `http://127.0.0.1:${listener.port}/metrics`;

const baselineRegistry = fillBaseline();
const gatewayRegistry = fillGateway();
const baseline = await measure(() => baselineRegistry.metrics());
const route = await measure(async () => (await fetch(url)).text());
const gateway = await measure(() => gatewayRegistry.text());
await listener.close(0);

const ms = (v: number) => `${v.toFixed(3)} ms`;
const row = (name: string, r: { median: number; p99: number; series: number }) =>
  `  ${name.padEnd(44)} ${String(r.series).padStart(5)} series   median ${ms(r.median).padStart(10)}   p99 ${ms(r.p99).padStart(10)}`;
console.log(`scrape cost, ${SCRAPES} scrapes each`);
console.log(row("baseline: prom-client Registry.metrics()", baseline));
console.log(row("ours: GET /metrics on a worker port (HTTP)", route));
console.log(row("gateway writer: core MetricsRegistry.text()", gateway));
console.log(`  ratio ours/baseline (median): ${(route.median / baseline.median).toFixed(2)}`);
console.log(
  `  target: ours under ${TARGET_MS} ms at ~1000 series: ${route.p99 < TARGET_MS ? "met" : "MISSED"} (p99)`,
);
