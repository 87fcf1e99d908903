// Process figures beyond prom-client's defaults: the connections open on the process's ports
// (prom-client's active-handle counts read 0 under Bun). Registered once per process.
import { Gauge } from "prom-client";
import type { Metrics } from "./registry.ts";

/** `count`: connections open now, read at each scrape. */
export function connectionsGauge(metrics: Metrics, count: () => number): void {
  const service = metrics.service;
  new Gauge({
    name: "filestore_open_connections",
    help: "Connections open on the process's RPC and data-plane port",
    labelNames: ["service"],
    registers: [metrics.prom],
    collect() {
      this.set({ service }, count());
    },
  });
}
