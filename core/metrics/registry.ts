// A small Prometheus registry and text-format writer, Web-standard so that the gateway (Deno, Bun or Node)
// and the workers share it. Why not prom-client here: it is CommonJS built on Node's modules (cluster,
// perf_hooks, v8, fs, loaded when it is imported). Its Registry does run under Deno, but only through
// Deno's Node compatibility (createRequire), which `core/` must not use (core/imports.test.ts) and which
// Web-standard hosts (Deno Deploy, workers runtimes) do not offer; and the gateway needs only counters,
// gauges and histograms, which fit in this file. The Bun workers use prom-client for the rest
// (workers/lib/metrics/), and a scrape concatenates both writers' text: their metric names never overlap.
//
// Cheap by design: a series is found by one Map lookup on its joined label values; a scrape writes each
// series' line from numbers kept as they are (no sorting, no copies).

export type MetricType = "counter" | "gauge" | "histogram";

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: readonly string[];
  write(out: string[]): void;
}

/** Escapes a label value for the text format: backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`)) : value;
}

const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/** A sample value as the text format writes it. */
export function formatValue(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

/** `{a="x",b="y"}` for label names and values (empty string when there are none). */
function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Base<S> implements Family {
  protected readonly series = new Map<string, { values: readonly string[]; state: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
    for (const l of labelNames) if (!LABEL.test(l) || l === "le") throw new Error(`bad label name ${l}`);
  }
  protected abstract fresh(): S;
  /** The state of one series (created at first use); `values` in the order of labelNames. */
  protected state(values: readonly string[]): S {
    if (values.length !== this.labelNames.length)
      throw new Error(`${this.name} takes labels ${this.labelNames.join(", ")}`);
    const key = values.length === 1 ? (values[0] as string) : values.join("\u0000");
    let s = this.series.get(key);
    if (!s) {
      s = { values: [...values], state: this.fresh() };
      this.series.set(key, s);
    }
    return s.state;
  }
  write(out: string[]): void {
    if (this.series.size === 0) return;
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const { values, state } of this.series.values()) this.lines(out, values, state);
  }
  protected abstract lines(out: string[], values: readonly string[], state: S): void;
}

/** A counter: only goes up (a process restart starts it again from 0, which rate() understands). */
export class Counter extends Base<{ v: number }> {
  protected fresh() {
    return { v: 0 };
  }
  /** A handle on one series, for hot paths (no lookup per event). */
  child(...values: string[]): { inc(by?: number): void } {
    const s = this.state(values);
    return {
      inc: (by = 1) => {
        s.v += by;
      },
    };
  }
  inc(values: readonly string[], by = 1): void {
    this.state(values).v += by;
  }
  protected lines(out: string[], values: readonly string[], s: { v: number }) {
    out.push(`${this.name}${labelText(this.labelNames, values)} ${formatValue(s.v)}`);
  }
}

/** A gauge: a value that goes up and down, or is read when scraped (`collect`). */
export class Gauge extends Base<{ v: number }> {
  protected fresh() {
    return { v: 0 };
  }
  set(values: readonly string[], v: number): void {
    this.state(values).v = v;
  }
  add(values: readonly string[], by: number): void {
    this.state(values).v += by;
  }
  /** A handle on one series, for hot paths (no lookup per change). */
  child(...values: string[]): { add(by: number): void } {
    const s = this.state(values);
    return {
      add: (by) => {
        s.v += by;
      },
    };
  }
  protected lines(out: string[], values: readonly string[], s: { v: number }) {
    out.push(`${this.name}${labelText(this.labelNames, values)} ${formatValue(s.v)}`);
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram with fixed upper bounds (cumulative buckets, _sum and _count, as Prometheus reads them). */
export class Histogram extends Base<HistogramState> {
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, "histogram", labelNames);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  protected fresh(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(values: readonly string[], v: number): void {
    this.record(this.state(values), v);
  }
  /** A handle on one series, for hot paths (no lookup per observation). */
  child(...values: string[]): { observe(v: number): void } {
    const s = this.state(values);
    return { observe: (v) => this.record(s, v) };
  }
  private record(s: HistogramState, v: number): void {
    s.sum += v;
    s.count++;
    // Counts per bucket (not cumulative): one increment per observation; the writer sums them.
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= (b[i] as number)) {
        (s.counts[i] as number)++;
        return;
      }
    }
  }
  protected lines(out: string[], values: readonly string[], s: HistogramState) {
    const n = this.labelNames;
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += s.counts[i] as number;
      const le = `le="${formatValue(this.buckets[i] as number)}"`;
      out.push(`${this.name}_bucket${labelText(n, values, le)} ${cumulative}`);
    }
    out.push(`${this.name}_bucket${labelText(n, values, 'le="+Inf"')} ${s.count}`);
    out.push(`${this.name}_sum${labelText(n, values)} ${formatValue(s.sum)}`);
    out.push(`${this.name}_count${labelText(n, values)} ${s.count}`);
  }
}

/** Upper bounds for request durations, in seconds (5 ms to 5 min: uploads of large parts take long). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The metrics of one process (or one composition): families by name, written in registration order. */
export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => void> = [];

  private add<F extends Family>(f: F): F {
    const known = this.families.get(f.name);
    if (known) {
      // The same family asked for twice (two components of one all-in-one process): one family, shared.
      if (known.type !== f.type || known.labelNames.join() !== f.labelNames.join())
        throw new Error(`metric ${f.name} registered twice with different shapes`);
      return known as F;
    }
    this.families.set(f.name, f);
    return f;
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, "counter", labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, "gauge", labelNames));
  }
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = DURATION_BUCKETS,
  ): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }
  /** `fn` runs before each scrape (gauges read at that moment: memory, connections). */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }
  /** Metric names registered, for checks of dashboards and alert rules against what is exported. */
  names(): string[] {
    return [...this.families.keys()];
  }
  /** Prometheus text format 0.0.4. */
  text(): string {
    for (const c of this.collectors) c();
    const out: string[] = [];
    for (const f of this.families.values()) f.write(out);
    return out.length === 0 ? "" : `${out.join("\n")}\n`;
  }
}

/** The content type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
