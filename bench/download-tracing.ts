// BENCH_TRACING of the download benchmark (bench/download.ts): what tracing costs, measured in one run.
// With "both", a second all-in-one with tracing on (spans to a local OTLP sink) serves the first one's
// data directory, and its whole-file and ranged rows take turns with the untraced ones (and, with
// BENCH_TRACING_BEFORE=DIR, a third from another checkout).
import { join } from "node:path";
import { type downloadRequests, sha256Of } from "./download-requests.ts";
import type { Line, Sample, Table } from "./download-table.ts";
import { BenchError, type createHarness, median } from "./harness.ts";

/** BENCH_TRACING=both: traced rows (a second, traced all-in-one) beside the untraced ones. */
export const BOTH = process.env.BENCH_TRACING === "both";

export interface TracingOptions {
  harness: ReturnType<typeof createHarness>;
  requests: ReturnType<typeof downloadRequests>;
  wholeGets: number;
  rangeSeconds: number;
  targetBaseline: number;
}

export function tracingRows(o: TracingOptions) {
  const note = () =>
    BOTH
      ? "off, and on in the rows marked so (a second process over the same data; every span exported to a local OTLP sink)"
      : process.env.BENCH_TRACING === "1"
        ? "on (every span exported to a local OTLP sink)"
        : "off";

  /** The traced twins of the untraced filestore's whole-file (row 1) and ranged (row 4) rows. */
  type Twins = { label: string; whole: number; ranged: number }[];

  /** A traced all-in-one over the first one's data directory (the same blob file, signing key, token). */
  async function startTraced(name: string, sink: string, main?: string) {
    return o.harness.startFilestore({
      name,
      main,
      env: { DATA_DIR: join(o.harness.tmp, "data"), OTEL_EXPORTER_OTLP_ENDPOINT: sink },
    });
  }

  /**
   * BENCH_TRACING=both: a second all-in-one with tracing on (spans to a local OTLP sink) over the data
   * directory of the first, whose whole-file and ranged rows take turns with the untraced ones (and, with
   * BENCH_TRACING_BEFORE, a third from another checkout). Only the baselines and these twins run.
   */
  async function addTracedRows(table: Table, fileId: string, token: string, sha256: string): Promise<Twins> {
    const { targets, kinds, lines } = table;
    const sink = (await o.harness.startOtlpSink()).url;
    const before = process.env.BENCH_TRACING_BEFORE;
    const variants = [
      { label: "tracing on", proc: await startTraced("traced", sink) },
      ...(before
        ? [
            {
              label: "tracing on, before",
              proc: await startTraced("before", sink, join(before, "workers/main.ts")),
            },
          ]
        : []),
    ];
    const headers = [`authorization: Bearer ${token}`];
    const twins: Twins = [];
    kinds.splice(
      0,
      kinds.length,
      { rows: [0, 1], turns: o.wholeGets },
      { rows: [3, 4], turns: o.rangeSeconds },
    );
    lines.splice(0, lines.length, { row: 0, base: 0 }, { row: 1, base: 0, target: o.targetBaseline });
    const rangeLines: Line[] = [
      { row: 3, base: 3 },
      { row: 4, base: 3, target: o.targetBaseline },
    ];
    for (const { label, proc } of variants) {
      const file = `${proc.url}/download/v1/files/${fileId}`;
      if ((await sha256Of(file, { authorization: `Bearer ${token}` })) !== sha256)
        throw new BenchError(`${file} sent other bytes`);
      const pid = proc.proc.pid;
      const script = o.requests.wrkScript(label.replace(/\W+/g, "-"), `Bearer ${token}`);
      const at = targets.length;
      targets.push(
        {
          name: `  ${label}: whole 1 GiB`,
          filestore: false,
          pids: [pid],
          go: () => o.requests.wholeFile(file, headers, pid),
        },
        {
          name: `  ${label}: ranged 1 MiB`,
          filestore: false,
          pids: [pid],
          go: () => o.requests.ranges(file, script),
        },
      );
      kinds[0]?.rows.push(at);
      kinds[1]?.rows.push(at + 1);
      lines.push({ row: at, base: 0 });
      rangeLines.push({ row: at + 1, base: 3 });
      twins.push({ label, whole: at, ranged: at + 1 });
    }
    lines.push(...rangeLines);
    return twins;
  }

  /** Tracing on against off (BENCH_TRACING=both): the speed ratio and the CPU per GiB of each twin. */
  function printTracingCost(samples: Sample[][], twins: Twins): void {
    const med = (i: number, f: (s: Sample) => number) => median((samples[i] ?? []).map(f));
    for (const t of twins) {
      for (const [kind, off, on] of [
        ["whole file", 1, t.whole],
        ["ranged", 4, t.ranged],
      ] as const) {
        const [speedOff, speedOn] = [med(off, (s) => s.mbs), med(on, (s) => s.mbs)];
        const [cpuOff, cpuOn] = [med(off, (s) => s.cpu), med(on, (s) => s.cpu)];
        // Per round too: each round's pair ran side by side, so its ratio is the steadier figure.
        const perRound = (samples[on] ?? []).map((s, r) => s.mbs / (samples[off]?.[r]?.mbs ?? Number.NaN));
        console.log(
          `${t.label} / off, ${kind}: ${(speedOn / speedOff).toFixed(3)} × speed (median of the rounds' ratios ` +
            `${median(perRound).toFixed(3)}), CPU/GiB ${cpuOff.toFixed(0)} → ${cpuOn.toFixed(0)} ms ` +
            `(${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(1)} %)`,
        );
      }
    }
  }

  return { note, addTracedRows, printTracingCost };
}
