// The table `npm run bench:upload` prints: each row's median MB/s and spread, its ratios to the baseline and
// to @tus/server, the receiving process's CPU per GiB, and the targets met or missed.
import { median } from "./harness.ts";

const TARGET_BASELINE = 0.85;
const TARGET_TUS = 1.3;
const TARGET_RSS_MIB = 150;

/** What bench:upload measured. Rows 0–4: baseline, context, @tus/server, single PUT, multipart; then twins. */
export interface Measured {
  /** The rows' names, in table order. */
  names: string[];
  /** MB/s of each row, one per round. */
  speeds: number[][];
  /** CPU seconds of the receiving process per GiB uploaded, one per round. */
  cpus: number[][];
  /** KiB. */
  peakRss: number;
  idleRss: number;
  hwm: number;
  partsNote: string;
  load: () => string | undefined;
  steal: () => string;
}

const cols = (...c: [string, number][]) => c.map(([v, w]) => (w < 0 ? v.padEnd(-w) : v.padStart(w))).join("");

/** Prints the table of medians and targets; true when a target was missed. */
export function report(r: Measured): boolean {
  const { speeds, cpus, peakRss, idleRss, hwm, partsNote, load, steal } = r;
  const med = speeds.map(median);
  const [base, sameWork, peer, single] = med as [number, number, number, number];
  const spread = (i: number) => {
    const xs = speeds[i] ?? [];
    return `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  };
  let missed = false;
  const check = (ok: boolean) => {
    missed ||= !ok;
    return ok ? "yes" : "NO";
  };
  const row = (i: number, target = "", met = "") => {
    const mbs = med[i] as number;
    return cols(
      [r.names[i] ?? "", -44],
      [mbs.toFixed(0), 7],
      [spread(i), 11],
      [(mbs / base).toFixed(2), 7],
      [(mbs / peer).toFixed(2), 7],
      [median(cpus[i] ?? []).toFixed(2), 7],
      ["   ", 3],
      [target, -22],
      [met, 5],
    );
  };
  const goals = (i: number) => {
    const mbs = med[i] as number;
    return [
      row(i, `≥ ${TARGET_BASELINE} × baseline`, check(mbs / base >= TARGET_BASELINE)),
      cols(["", -86], [`≥ ${TARGET_TUS} × @tus/server`, -22], [check(mbs / peer >= TARGET_TUS), 5]),
    ];
  };
  console.log();
  console.log(
    cols(
      ["benchmark (median of rounds)", -44],
      ["MB/s", 7],
      ["min–max", 11],
      ["×base", 7],
      ["×tus", 7],
      ["CPU s", 7],
      ["   ", 3],
      ["target", -22],
      ["met?", 5],
    ),
  );
  console.log(row(0));
  console.log(row(1, "(context: same work)"));
  console.log(row(2, "(peer: no hash/fsync)"));
  for (const line of goals(3)) console.log(line);
  for (const line of goals(4)) console.log(line);
  // BENCH_TRACING=both: the traced twins' rows (no targets of their own; their cost is printed after).
  for (let i = 5; i < speeds.length; i++) console.log(row(i));
  const peakMiB = peakRss / 1024;
  console.log(
    cols(
      ["peak RSS of the filestore process (MiB)", -44],
      [peakMiB.toFixed(0), 7],
      ["", 28],
      ["   ", 3],
      [`< ${TARGET_RSS_MIB} MiB`, -22],
      [check(peakMiB < TARGET_RSS_MIB), 5],
    ),
  );
  console.log();
  console.log(
    "CPU s: CPU time (user + system) of the receiving process per GiB uploaded, median: steadier than " +
      "MB/s on a shared machine; the filestore's includes its digest lanes (SHA-256 and SHA-1 off the event loop)",
  );
  console.log(`multipart: ${partsNote}`);
  console.log(
    `filestore single PUT / context row (same hashing and durability): ${(single / sameWork).toFixed(2)}; ` +
      `RSS idle before uploads ${Math.round(idleRss / 1024)} MiB, kernel high-water mark ${Math.round(hwm / 1024)} MiB ` +
      "(includes sign-in: argon2id touches 64 MiB); " +
      `load average ${load()} at the end; CPU time taken by the host (steal) during the rounds: ${steal()}`,
  );
  return missed;
}
