// Figures that cost a query (storage totals, transfer job counts) read at most every `maxAgeMs`, in the
// background: a scrape takes the last value and never waits for, or causes more than, one query per period.
// Until the first read succeeds the value is undefined (the series are absent, not zero).
import { Gauge } from "prom-client";
import type { Metrics } from "./registry.ts";

export interface CachedReader<T> {
  /** The last value read; starts a new read when it is older than maxAgeMs and none is running. */
  get(): T | undefined;
  /** Resolves when the read in progress (if any) is over: tests, and the first scrape of a bench. */
  settled(): Promise<void>;
}

export function cachedReader<T>(
  read: () => Promise<T>,
  maxAgeMs: number,
  onError: (err: unknown) => void = () => {},
  now: () => number = Date.now,
): CachedReader<T> {
  let value: T | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  const refresh = () => {
    readAt = now(); // a failed read is not retried before the next period either
    running = read()
      .then((v) => {
        value = v;
      })
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  return {
    get() {
      if (!running && now() - readAt >= maxAgeMs) refresh();
      return value;
    },
    async settled() {
      await running;
    },
  };
}

/**
 * A gauge of `name` whose value is read by `read` at most every `maxAgeSeconds` (cachedReader), set by
 * `fill` at each scrape from the last reading; no series until a reading succeeded. The first read
 * starts now, not at the first scrape.
 */
export function cachedGauge<T>(
  m: Metrics,
  gauge: { name: string; help: string; labelNames: string[] },
  read: () => Promise<T>,
  fill: (set: (labels: Record<string, string>, v: number) => void, value: T) => void,
  maxAgeSeconds: number,
  onError?: (err: unknown) => void,
): void {
  const service = m.service;
  const values = cachedReader(read, maxAgeSeconds * 1000, onError);
  m.prom.registerMetric(
    new Gauge({
      ...gauge,
      labelNames: ["service", ...gauge.labelNames],
      registers: [],
      collect() {
        const v = values.get();
        if (v !== undefined) fill((labels, n) => this.set({ service, ...labels }, n), v);
      },
    }),
  );
  values.get();
}
