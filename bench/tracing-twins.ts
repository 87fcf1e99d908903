// BENCH_TRACING=both, as bench:download and bench:upload share it: what tracing costs, measured in one run.
// Beside the untraced all-in-one, a traced twin (tracing on, every span exported to a local OTLP sink,
// bench/otlp-sink.ts; metrics on, as always) takes the same requests, its rows taking turns with the
// untraced ones within each round so that the machine's swings fall on both alike. BENCH_TRACING_BEFORE=DIR
// adds a third, traced, all-in-one run from another checkout: before and after a change to tracing.
// OTEL_SDK_DISABLED=true leaves the twins untraced: an A/A run, whose lines show how much two untraced
// processes differ on this machine (on a loaded one, more than tracing costs).
import { join } from "node:path";
import { type createHarness, median } from "./harness.ts";

/** BENCH_TRACING=both: traced rows (a second, traced all-in-one) beside the untraced ones. */
export const BOTH = process.env.BENCH_TRACING === "both";
/**
 * OTEL_SDK_DISABLED=true with BENCH_TRACING=both: the twins run untraced, an A/A run whose on/off lines
 * show what two untraced processes differ by on this machine (the floor below which a cost is noise).
 */
const AA = process.env.OTEL_SDK_DISABLED === "true";
const ON = AA ? "A/A twin, tracing off" : "tracing on";

/** How the filestore runs, for a benchmark's header line. */
export function tracingNote(): string {
  if (BOTH && AA) return "off, in the twins' rows too (OTEL_SDK_DISABLED=true: an A/A run, the noise floor)";
  if (BOTH)
    return "off, and on in the rows marked so (a second process; every span exported to a local OTLP sink)";
  return process.env.BENCH_TRACING === "1" ? "on (every span exported to a local OTLP sink)" : "off";
}

/** A traced all-in-one: its label in the rows' names, its harness name (data under tmp/data-<name>). */
export interface Twin {
  label: string;
  name: string;
  proc: Awaited<ReturnType<ReturnType<typeof createHarness>["startFilestore"]>>;
}

/**
 * The traced all-in-ones of BENCH_TRACING=both, their spans sent to one local OTLP sink: "tracing on",
 * and with BENCH_TRACING_BEFORE=DIR "tracing on, before" (DIR's workers/main.ts). `env` adds settings
 * (e.g. the untraced one's DATA_DIR, to serve its data).
 */
export async function startTracedTwins(
  harness: ReturnType<typeof createHarness>,
  env: Record<string, string> = {},
): Promise<Twin[]> {
  const sink = (await harness.startOtlpSink()).url;
  const before = process.env.BENCH_TRACING_BEFORE;
  const specs = [
    { label: ON, name: "traced", main: undefined as string | undefined },
    ...(before ? [{ label: `${ON}, before`, name: "before", main: join(before, "workers/main.ts") }] : []),
  ];
  const twins: Twin[] = [];
  for (const { label, name, main } of specs) {
    const proc = await harness.startFilestore({
      name,
      main,
      env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: sink },
    });
    twins.push({ label, name, proc });
  }
  return twins;
}

/** One row's figures per counted round: speed (any unit) and CPU ms per GiB. */
export interface RoundFigures {
  speeds: number[];
  cpus: number[];
}

/** A traced row against its untraced twin. */
export interface TwinPair {
  label: string;
  kind: string;
  off: RoundFigures;
  on: RoundFigures;
}

/**
 * Tracing on against off, per pair: the median of the rounds' speed ratios (each round's pair ran side by
 * side, so its ratio is the steadier figure), the overall ratio (all rounds' time, as if each round moved the
 * same bytes), the median CPU per GiB of each and the rounds' CPU ratios.
 */
export function printTracingCost(pairs: TwinPair[]): void {
  const secondsPerUnit = (xs: number[]) => xs.reduce((sum, x) => sum + 1 / x, 0);
  for (const { label, kind, off, on } of pairs) {
    const perRound = on.speeds.map((s, r) => s / (off.speeds[r] ?? Number.NaN));
    const overall = secondsPerUnit(off.speeds) / secondsPerUnit(on.speeds);
    const [cpuOff, cpuOn] = [median(off.cpus), median(on.cpus)];
    const cpuPerRound = on.cpus.map((c, r) => c / (off.cpus[r] ?? Number.NaN));
    const list = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(" ");
    console.log(
      `${label} / off, ${kind}: ${median(perRound).toFixed(3)} × speed (median of the rounds' ratios ` +
        `${list(perRound)}; overall ${overall.toFixed(3)}), CPU/GiB ${cpuOff.toFixed(0)} → ` +
        `${cpuOn.toFixed(0)} ms (${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(1)} %; the rounds' ratios ` +
        `${list(cpuPerRound)}, median ${median(cpuPerRound).toFixed(3)})`,
    );
  }
}
