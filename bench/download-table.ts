// The table `npm run bench:download` prints: each row's medians, its ratio to the row it is compared with,
// latencies, CPU per GiB, and the targets met or missed.
import { median } from "./harness.ts";

const TARGET_RSS_MIB = 150;

/** One turn of a row: a GET of the whole file, or 1 s of wrk. */
export interface Turn {
  /** Bytes of payload served. */
  bytes: number;
  seconds: number;
  /** wrk's latency percentiles, µs. */
  p50?: number;
  p99?: number;
}

/** A row's figures for one round (its turns pooled). */
export interface Sample {
  mbs: number;
  p50?: number;
  p99?: number;
  /** CPU time (user + system) of the serving process per GiB served, ms. */
  cpu: number;
}

/** The medians of wrk's latency percentiles (none for the whole-file rows, which curl runs). */
export function latencies(xs: { p50?: number; p99?: number }[]): { p50?: number; p99?: number } {
  if (xs[0]?.p50 === undefined) return {};
  return { p50: median(xs.map((x) => x.p50 as number)), p99: median(xs.map((x) => x.p99 as number)) };
}

/** A line of the table: a row, the row it is compared with, and the least ratio it must reach. */
export interface Line {
  row: number;
  base: number;
  target?: number;
}

/** What bench:download measured, for its table. */
export interface Measured {
  /** The rows' names, in table order. */
  names: string[];
  lines: Line[];
  /** Each row's figures, one per counted round. */
  samples: Sample[][];
  /** KiB. */
  peakRss: number;
  idleRss: number;
  hwm: number;
  steal: () => string;
}

/** Prints the table of medians and targets; true when a target was missed. */
export function report(r: Measured): boolean {
  const { samples, peakRss, idleRss, hwm, steal } = r;
  const med: Sample[] = samples.map((xs) => ({
    mbs: median(xs.map((s) => s.mbs)),
    ...latencies(xs),
    cpu: median(xs.map((s) => s.cpu)),
  }));
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  let missed = false;
  const ms = (us: number | undefined) => (us === undefined ? "" : (us / 1000).toFixed(1));
  // CPU per GiB is what holds when the machine is shared: wall-time speeds swing with other load.
  const row = ({ row: i, base: baseIndex, target: goal }: Line) => {
    const s = med[i] as Sample;
    const base = med[baseIndex] as Sample;
    const ratio = s.mbs / base.mbs;
    const cpu = `${s.cpu.toFixed(0).padStart(8)}${(base.cpu / s.cpu).toFixed(2).padStart(8)}`;
    let target = "";
    if (goal !== undefined) {
      missed ||= ratio < goal;
      target = `   ≥ ${goal} × ${r.names[baseIndex]?.split(":")[0]} (${verdict(ratio >= goal)})`;
    }
    return `${r.names[i]?.padEnd(42)}${s.mbs.toFixed(0).padStart(8)}${ratio.toFixed(2).padStart(8)}${ms(s.p50).padStart(9)}${ms(s.p99).padStart(9)}${cpu}${target}`;
  };
  console.log();
  console.log(
    `${"benchmark".padEnd(42)}${"MB/s".padStart(8)}${"×base".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"CPU/GiB".padStart(8)}${"eff".padStart(8)}   targets`,
  );
  for (const line of r.lines) console.log(row(line));
  const perRound = ({ row: i, base: b }: Line) =>
    samples[i]?.map((s, r) => (s.mbs / (samples[b]?.[r]?.mbs as number)).toFixed(2)).join(" ");
  const goals = r.lines.filter((l) => l.target !== undefined);
  console.log(
    `×base round by round: ${goals.map((l) => `${r.names[l.row]?.trim()} ${perRound(l)}`).join("; ")}`,
  );
  console.log(
    "CPU/GiB: ms of CPU (user + system) the serving process spent per GiB served; eff: the baseline's CPU/GiB over this row's",
  );
  const peakMiB = peakRss / 1024;
  missed ||= peakMiB >= TARGET_RSS_MIB;
  console.log(
    `peak RSS filestore process: ${Math.round(peakMiB)} MiB (target < ${TARGET_RSS_MIB}: ${verdict(peakMiB < TARGET_RSS_MIB)}; ` +
      `idle before downloads ${Math.round(idleRss / 1024)} MiB, kernel high-water mark ${Math.round(hwm / 1024)} MiB, which includes the upload)`,
  );
  console.log(`CPU time taken by the host (steal) during the rounds: ${steal()}`);
  return missed;
}

/** A row: its name, whose CPU time it costs, and one turn of it. filestore: the first all-in-one's RSS is sampled during it. */
export interface Target {
  name: string;
  filestore: boolean;
  pids: number[];
  go: () => Promise<Turn>;
}

/** The rows, the kinds of rows that take turns (and how many turns each gets), the table's lines. */
export interface Table {
  targets: Target[];
  kinds: { rows: number[]; turns: number }[];
  lines: Line[];
}
