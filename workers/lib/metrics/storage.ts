// Storage gauges: blobs and stored bytes (each blob once) per backend; logical bytes (what users are
// charged: every file its full size, the sum of the usage counters) and the dedup ratio between them for
// the instance (logical bytes are kept per user, not per backend: splitting them would need a scan). The
// figures come from an injected provider (meta's GetInstanceStats: counters and indexed aggregates, never
// a scan per scrape), read at most every `maxAgeSeconds` (cached.ts). No provider wired: no series.
import { Gauge } from "prom-client";
import { cachedGauge, cachedReader } from "./cached.ts";
import type { Metrics } from "./registry.ts";

export interface BackendTotals {
  backend: string;
  blobs: number;
  storedBytes: number;
}

export interface StorageTotals {
  backends: BackendTotals[];
  /** Logical bytes of the whole instance. */
  logicalBytes: number;
}

export type StorageTotalsProvider = () => Promise<StorageTotals>;

export const DEFAULT_STORAGE_MAX_AGE_SECONDS = 60;

export function storageMetrics(
  m: Metrics,
  provider: StorageTotalsProvider,
  opts: { maxAgeSeconds?: number; onError?: (err: unknown) => void } = {},
): { settled(): Promise<void> } {
  const service = m.service;
  const totals = cachedReader(
    provider,
    (opts.maxAgeSeconds ?? DEFAULT_STORAGE_MAX_AGE_SECONDS) * 1000,
    opts.onError,
  );
  const labelNames = ["service", "backend"];
  // One collect (the first gauge's, collected first) fills all four from the same reading.
  const fill = () => {
    const t = totals.get();
    for (const g of Object.values(gauges)) g.reset();
    if (!t) return;
    let stored = 0;
    for (const b of t.backends) {
      const labels = { service, backend: b.backend };
      gauges.blobs.set(labels, b.blobs);
      gauges.stored.set(labels, b.storedBytes);
      stored += b.storedBytes;
    }
    gauges.logical.set({ service }, t.logicalBytes);
    if (stored > 0) gauges.ratio.set({ service }, t.logicalBytes / stored);
  };
  const gauges = {
    blobs: new Gauge({
      name: "filestore_storage_blobs",
      help: "Blobs held, by backend",
      labelNames,
      registers: [],
      collect: fill,
    }),
    stored: new Gauge({
      name: "filestore_storage_stored_bytes",
      help: "Bytes held in the blob store, each blob once, by backend",
      labelNames,
      registers: [],
    }),
    logical: new Gauge({
      name: "filestore_storage_logical_bytes",
      help: "Bytes of all files as users are charged for them (shared content counted per file)",
      labelNames: ["service"],
      registers: [],
    }),
    ratio: new Gauge({
      name: "filestore_storage_dedup_ratio",
      help: "Logical bytes per stored byte (1: no sharing)",
      labelNames: ["service"],
      registers: [],
    }),
  };
  for (const g of Object.values(gauges)) m.prom.registerMetric(g);
  totals.get(); // the first read starts now, not at the first scrape
  return { settled: () => totals.settled() };
}

/**
 * filestore_storage_available_bytes{backend}: free space where new content lands (a local disk's
 * statfs), read at most every `maxAgeSeconds`: the "disk nearly full" alert reads it.
 */
export function availableBytesGauge(
  m: Metrics,
  backend: string,
  read: () => Promise<number>,
  maxAgeSeconds: number,
  onError?: (err: unknown) => void,
): void {
  const gauge = {
    name: "filestore_storage_available_bytes",
    help: "Free bytes where new content lands, by backend",
    labelNames: ["backend"],
  };
  cachedGauge(m, gauge, read, (set, free) => set({ backend }, free), maxAgeSeconds, onError);
}
