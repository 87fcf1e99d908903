// BENCH_TRACING of the download benchmark (bench/download.ts): what tracing costs, measured in one run.
// With "both", a second all-in-one with tracing on (spans to a local OTLP sink) serves the first one's
// data directory, and its whole-file and ranged rows take turns with the untraced ones (and, with
// BENCH_TRACING_BEFORE=DIR, a third from another checkout). The twins and the cost lines: tracing-twins.ts.
import { join } from "node:path";
import { type downloadRequests, sha256Of } from "./download-requests.ts";
import type { Line, Sample, Table } from "./download-table.ts";
import { BenchError, type createHarness } from "./harness.ts";
import { printTracingCost as printCost, startTracedTwins, tracingNote } from "./tracing-twins.ts";

export { BOTH } from "./tracing-twins.ts";

export interface TracingOptions {
  harness: ReturnType<typeof createHarness>;
  requests: ReturnType<typeof downloadRequests>;
  wholeGets: number;
  rangeSeconds: number;
  targetBaseline: number;
}

export function tracingRows(o: TracingOptions) {
  const note = tracingNote;

  /** The traced twins of the untraced filestore's whole-file (row 1) and ranged (row 4) rows. */
  type Twins = { label: string; whole: number; ranged: number }[];

  /**
   * BENCH_TRACING=both: a second all-in-one with tracing on (spans to a local OTLP sink) over the data
   * directory of the first (the same blob file, signing key, token), whose whole-file and ranged rows take
   * turns with the untraced ones (and, with BENCH_TRACING_BEFORE, a third from another checkout). Only the
   * baselines and these twins run.
   */
  async function addTracedRows(table: Table, fileId: string, token: string, sha256: string): Promise<Twins> {
    const { targets, kinds, lines } = table;
    const variants = await startTracedTwins(o.harness, { DATA_DIR: join(o.harness.tmp, "data") });
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
    const figures = (i: number) => ({
      speeds: (samples[i] ?? []).map((s) => s.mbs),
      cpus: (samples[i] ?? []).map((s) => s.cpu),
    });
    printCost(
      twins.flatMap((t) => [
        { label: t.label, kind: "whole file", off: figures(1), on: figures(t.whole) },
        { label: t.label, kind: "ranged", off: figures(4), on: figures(t.ranged) },
      ]),
    );
  }

  return { note, addTracedRows, printTracingCost };
}
