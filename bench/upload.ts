// `npm run bench:upload`: a 1 GiB upload through the full stack of the all-in-one filestore (the Hono
// gateway in front of the upload worker), as one streamed PUT and as a multipart session (4 parts in
// flight), next to
//   - the baseline: a bare Bun.serve handler streaming the body to a file while hashing it with SHA-256
//     (bench/upload-baseline.ts), and
//   - the peer: @tus/server with @tus/file-store (bench/tus-peer.mjs) on Node, the runtime it is made for
//     (BENCH_TUS_RUNTIME=bun runs it under Bun instead), fed the same file in 8 MiB PATCHes,
// all measured in the same run, in alternating rounds. Prints MB/s (10^6 bytes per second of wall time,
// requests through to the verified answer), the ratio to the baseline and to @tus/server, and the peak RSS
// of the filestore process.
//
// Clients: the payload is generated once into a temp file. Single-request uploads are sent from it by curl
// (`curl -T`), which streams from disk at a negligible CPU cost. Chunked uploads (multipart parts, tus
// PATCHes) come from one Bun child process (bench/upload-client.ts) that sends file slices with fetch
// over keep-alive connections: spawning a curl per 5-8 MiB request would add ~7 ms each and measure the
// harness instead.
//
// What each row does, so that the ratios can be read fairly:
//   baseline      receive + SHA-256 + write (no SHA-1, no fsync, no auth, no database, no proxy)
//   context row   baseline + SHA-1 + fsync at the end: the same hashing and durability as the filestore
//   @tus/server   receive + write in 8 MiB PATCHes: no hashing, no fsync (128 requests, not one)
//   filestore     gateway → upload worker: auth, SHA-256 + SHA-1 (both off the event loop, digest.ts),
//                 fsync + atomic rename, a file row; multipart adds the assembly of the parts (appended and
//                 hashed as they arrive, local.ts; completion finishes it)
// A warm-up round (not counted) runs first: JIT, the filestore's digest lanes, the page cache of the payload.
// Every round uploads the same bytes, so the filestore finds the content known and removes its new copy
// (in the background for large files, as for any re-upload); the multipart row takes the part size the
// server picks (about 32 parts). Between rows, untimed: the row's cleanup (the baseline's and the peer's
// files are deleted), the filestore's background removals finish, and sync(1) flushes what is dirty: no
// row pays for the writeback or the deletions of the row before it. The order of the rows changes from one
// round to the next, so that each row follows each other one equally often over 4 rounds (each round's
// line still lists them in table order).
//
// Env: BENCH_ROUNDS (default 5: each row after each other once, and an odd count for the median) rounds,
// medians (min–max shown: this machine is shared and noisy); BENCH_WARMUP (default 1) uncounted rounds
// first; BENCH_ENFORCE=1 exits 1 when a target is missed; BENCH_TRACING=1 runs the filestore with
// tracing on, its spans exported to a local OTLP sink (compare the ratios of a run with and without); BENCH_TUS_RUNTIME=bun runs the peer under Bun.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import {
  BenchError,
  benchPort,
  benchUserToken,
  cpuMs,
  createHarness,
  makePayload,
  median,
  rssKiB,
  stealMeter,
} from "./harness.ts";
import { type ClientSpec, PARALLEL_PARTS } from "./upload-client.ts";

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const TARGET_BASELINE = 0.85;
const TARGET_TUS = 1.3;
const TARGET_RSS_MIB = 150;

const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
/** The steps through the 5 rows that give orders with each row after each other one once (5 is prime). */
const STEPS = [1, 2, 3, 4];
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("BENCH_ROUNDS must be a whole number >= 1");
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error("BENCH_WARMUP must be a whole number >= 0");

const { tmp, start, startFilestore, run, runMain } = createHarness("filestore-bench-upload");

const emptyDir = (dir: string) => {
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
};

/** One row of bench:upload. */
interface Target {
  name: string;
  filestore: boolean;
  /** The process that receives the upload (its CPU time is measured). */
  pid: number;
  go: () => Promise<void>;
  cleanup?: () => void;
}

/**
 * Every round of every row: MB/s and CPU seconds per upload, one per counted round. `settle` runs between
 * rows (untimed); `setSampling` says when a filestore row runs (its RSS is sampled).
 */
async function runRounds(
  targets: Target[],
  settle: () => Promise<void>,
  setSampling: (on: boolean) => void,
): Promise<{ speeds: number[][]; cpus: number[][] }> {
  const speeds = targets.map(() => [] as number[]);
  /** CPU seconds the receiving process spent per upload (per GiB). */
  const cpus = targets.map(() => [] as number[]);
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const line: string[] = targets.map(() => "");
    const warmup = round < WARMUP;
    // A row's cost can depend on the row before it (what that one left in memory and on the disk), so the
    // order changes from round to round: round r takes the rows in steps of STEPS[r] (5 rows: steps of 1,
    // 2, 3 and 4), starting one row further on, so that over 4 rounds each row follows each other one once.
    const n = targets.length;
    if (n !== STEPS.length + 1) throw new BenchError("STEPS are made for 5 rows");
    const step = STEPS[round % STEPS.length] as number;
    const order = targets.map((_, k) => (round + k * step) % n);
    for (const i of order) {
      const t = targets[i] as (typeof targets)[number];
      setSampling(t.filestore);
      const cpu0 = cpuMs(t.pid);
      const t0 = performance.now();
      await t.go();
      const seconds = (performance.now() - t0) / 1000;
      if (!warmup) cpus[i]?.push((cpuMs(t.pid) - cpu0) / 1000);
      setSampling(false);
      t.cleanup?.();
      await settle();
      const mbs = SIZE / 1e6 / seconds;
      if (!warmup) speeds[i]?.push(mbs);
      line[i] = mbs.toFixed(0);
    }
    console.log(`${warmup ? "warm-up" : `round ${round - WARMUP + 1}`}: ${line.join(" / ")} MB/s`);
  }
  return { speeds, cpus };
}

/** What bench:upload measured, for its table. */
interface Measured {
  /** The rows' names, in table order. */
  names: string[];
  /** MB/s of each row, one per round. */
  speeds: number[][];
  /** CPU seconds of the receiving process per upload, one per round. */
  cpus: number[][];
  /** KiB. */
  peakRss: number;
  idleRss: number;
  hwm: number;
  partsNote: string;
  load: () => string | undefined;
  steal: () => string;
}

/** Prints the table of medians and targets; true when a target was missed. */
function report(r: Measured): boolean {
  const { speeds, cpus, peakRss, idleRss, hwm, partsNote, load, steal } = r;
  const [base, sameWork, peer, single, multi] = speeds.map(median) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const spread = (i: number) => {
    const xs = speeds[i] ?? [];
    return `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  };
  let missed = false;
  const check = (ok: boolean) => {
    missed ||= !ok;
    return ok ? "yes" : "NO";
  };
  const cols = (...c: [string, number][]) =>
    c.map(([v, w]) => (w < 0 ? v.padEnd(-w) : v.padStart(w))).join("");
  const row = (i: number, mbs: number, target = "", met = "") =>
    cols(
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
  const goals = (i: number, mbs: number) => [
    row(i, mbs, `≥ ${TARGET_BASELINE} × baseline`, check(mbs / base >= TARGET_BASELINE)),
    cols(["", -86], [`≥ ${TARGET_TUS} × @tus/server`, -22], [check(mbs / peer >= TARGET_TUS), 5]),
  ];
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
  console.log(row(0, base));
  console.log(row(1, sameWork, "(context: same work)"));
  console.log(row(2, peer, "(peer: no hash/fsync)"));
  for (const line of goals(3, single)) console.log(line);
  for (const line of goals(4, multi)) console.log(line);
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
    "CPU s: CPU time (user + system) of the receiving process per upload (per GiB), median: steadier than " +
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

function printSetup(load: () => string | undefined): void {
  const tracing = process.env.BENCH_TRACING === "1" ? "on (every span exported to a local OTLP sink)" : "off";
  console.log(
    `1 GiB (${SIZE} bytes) per upload, ${WARMUP} warm-up + ${ROUNDS} rounds (the order changes), medians; ` +
      `MB/s = 10^6 bytes/s of wall time; ${availableParallelism()} cores, load average ${load()} at the start` +
      `; filestore tracing ${tracing}, metrics on`,
  );
}

async function main(): Promise<number> {
  if (!Bun.which("curl")) throw new BenchError("curl is not installed: run `apt-get install -y curl` first");
  const baselineDir = join(tmp, "baseline");
  const tusDir = join(tmp, "tus");
  mkdirSync(baselineDir);
  mkdirSync(tusDir);

  const baseline = await start(
    "baseline",
    [process.execPath, "bench/upload-baseline.ts"],
    { BASELINE_DIR: baselineDir, PORT: benchPort() },
    /listening on (http:\/\/\S+)/,
  );
  const tus = await start(
    "tus",
    [process.env.BENCH_TUS_RUNTIME === "bun" ? process.execPath : "node", "bench/tus-peer.mjs"],
    { TUS_DIR: tusDir, PORT: benchPort() },
    /listening on (http:\/\/\S+)/,
  );
  const store = await startFilestore();
  const health = await fetch(`${store.url}/healthz`);
  if (!health.ok) throw new BenchError(`gateway /healthz answered ${health.status}`);

  const token = await benchUserToken(store.url);

  const payload = join(tmp, "payload.bin");
  process.stdout.write("generating the 1 GiB payload ... ");
  const sha256 = await makePayload(payload, SIZE);
  console.log(sha256.slice(0, 16));

  const curl = ["curl", "-sS", "--fail-with-body", "-H", "Expect:", "-T", payload];
  const client = async (spec: Omit<ClientSpec, "file" | "size">) =>
    JSON.parse(
      await run([
        process.execPath,
        join(import.meta.dir, "upload-client.ts"),
        JSON.stringify({ ...spec, file: payload, size: SIZE }),
      ]),
    );

  let sampling = false;
  let peakRss = 0;
  const sampler = setInterval(() => {
    if (sampling) peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  }, 50);
  const idleRss = rssKiB(store.proc.pid, "VmRSS");

  let uploads = 0;
  let partsNote = "";
  // Between rows (untimed): each row's cleanup, the filestore's background removals (tmp/removed-*), then
  // sync(1), so that no row pays for the writeback or the deletions of the row before it.
  const filestoreTmp = join(tmp, "data", "blobs-root", "tmp");
  const settle = async () => {
    for (let i = 0; i < 200; i++) {
      const busy = readdirSync(filestoreTmp).some((f) => f.startsWith("removed-"));
      if (!busy) break;
      await Bun.sleep(25);
    }
    await run(["sync"]);
  };
  const targets: Target[] = [
    {
      name: "baseline: Bun.serve → file + SHA-256",
      filestore: false,
      pid: baseline.proc.pid,
      async go() {
        const hash = (await run([...curl, `${baseline.url}/`])).trim();
        if (hash !== sha256) throw new BenchError(`baseline answered ${hash}, expected ${sha256}`);
      },
      cleanup: () => emptyDir(baselineDir),
    },
    {
      name: "  context: baseline + SHA-1 + fsync",
      filestore: false,
      pid: baseline.proc.pid,
      async go() {
        const hash = (await run([...curl, `${baseline.url}/?same-work=1`])).trim();
        if (hash !== sha256) throw new BenchError(`baseline answered ${hash}, expected ${sha256}`);
      },
      cleanup: () => emptyDir(baselineDir),
    },
    {
      name: `@tus/server on ${process.env.BENCH_TUS_RUNTIME === "bun" ? "Bun" : "Node"}, 8 MiB PATCHes`,
      filestore: false,
      pid: tus.proc.pid,
      async go() {
        const r = await client({ kind: "tus", base: tus.url });
        const stored = statSync(join(tusDir, r.id)).size;
        if (r.size !== SIZE || stored !== SIZE)
          throw new BenchError(`tus stored ${stored} bytes, not ${SIZE}`);
      },
      cleanup: () => emptyDir(tusDir),
    },
    {
      name: "filestore single PUT (gateway)",
      filestore: true,
      pid: store.proc.pid,
      async go() {
        const out = await run([
          ...curl,
          "-H",
          `authorization: Bearer ${token}`,
          `${store.url}/upload/v1/files?name=bench-${++uploads}.bin`,
        ]);
        const file = JSON.parse(out).file;
        if (file?.sha256 !== sha256 || file?.size !== String(SIZE))
          throw new BenchError(`single upload answered ${out}`);
      },
    },
    {
      name: `filestore multipart, ${PARALLEL_PARTS} parallel parts`,
      filestore: true,
      pid: store.proc.pid,
      async go() {
        const r = await client({ kind: "multipart", base: store.url, token, name: `bench-${++uploads}.bin` });
        if (r.sha256 !== sha256 || r.size !== SIZE)
          throw new BenchError(`multipart upload gave ${JSON.stringify(r)}`);
        partsNote =
          `${r.parts} × ${r.partSize / MiB} MiB parts; last round: parts ${r.seconds.parts.toFixed(2)} s, ` +
          `CompleteUploadSession ${r.seconds.complete.toFixed(2)} s`;
      },
    },
  ];

  const load = () => loadavg()[0]?.toFixed(1);
  printSetup(load);
  const steal = stealMeter();
  const { speeds, cpus } = await runRounds(targets, settle, (on) => {
    sampling = on;
  });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  const hwm = rssKiB(store.proc.pid, "VmHWM");

  const missed = report({
    names: targets.map((t) => t.name),
    speeds,
    cpus,
    peakRss,
    idleRss,
    hwm,
    partsNote,
    load,
    steal,
  });
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

await runMain(main);
