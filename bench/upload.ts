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
// first; BENCH_UPLOAD_MIB (default 1024) the size of each upload (smaller for a short run on a loaded
// machine; CPU is still given per GiB); BENCH_ENFORCE=1 exits 1 when a target is missed; BENCH_TUS_RUNTIME=bun
// runs the peer under Bun. BENCH_TRACING=1 runs the filestore with tracing on, its spans exported to a local
// OTLP sink (bench/otlp-sink.ts), to compare with a run without. BENCH_TRACING=both measures what tracing
// costs in one run (tracing-twins.ts, as bench:download does): a second all-in-one with tracing on (spans to
// the local sink; metrics on, as in every all-in-one), with a data directory and a user of its own, gets
// traced twins of the single-PUT and multipart rows. A twin runs right beside its untraced row, in the
// same place of the order, the two taking turns to go first from one round to the next; the table shows the
// twins' rows, and a line per row gives the on/off speed ratio (the median of the rounds' ratios, each
// round's pair having run side by side, and the overall one) and the CPU per GiB off → on.
// BENCH_TRACING_BEFORE=DIR (with both) adds a third, traced, all-in-one from another checkout (its
// workers/main.ts): before and after a change to tracing, in one run; OTEL_SDK_DISABLED=true leaves the twins
// untraced (an A/A run: the noise floor of the on/off lines).
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
  rssKiB,
  stealMeter,
} from "./harness.ts";
import { BOTH, printTracingCost, startTracedTwins, tracingNote } from "./tracing-twins.ts";
import { type ClientSpec, PARALLEL_PARTS } from "./upload-client.ts";
import { report } from "./upload-table.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** BENCH_UPLOAD_MIB (default 1024): the size of each upload (smaller for a short run on a loaded machine). */
const SIZE = Number(process.env.BENCH_UPLOAD_MIB || 1024) * MiB;
if (!Number.isInteger(SIZE / MiB) || SIZE < MiB)
  throw new Error("BENCH_UPLOAD_MIB must be a whole number >= 1");
const SIZE_TEXT = SIZE === GiB ? "1 GiB" : `${SIZE / MiB} MiB`;

const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
/** The steps through the 5 rows that give orders with each row after each other one once (5 is prime). */
const STEPS = [1, 2, 3, 4];
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("BENCH_ROUNDS must be a whole number >= 1");
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error("BENCH_WARMUP must be a whole number >= 0");

const harness = createHarness("filestore-bench-upload");
const { tmp, start, startFilestore, run, runMain } = harness;

const emptyDir = (dir: string) => {
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
};

/** One row of bench:upload. */
interface Target {
  name: string;
  /** The untraced filestore (its RSS is sampled while the row runs). */
  filestore: boolean;
  /** The process that receives the upload (its CPU time is measured). */
  pid: number;
  go: () => Promise<void>;
  cleanup?: () => void;
}

/**
 * The order of the rows in round `round`. `slots` are the 5 places of the order (baseline, context, peer,
 * single PUT, multipart), each with its rows: one, or with BENCH_TRACING=both a filestore row and its traced
 * twins, which run one after the other there, the first of them changing from round to round.
 */
function orderOf(round: number, slots: number[][]): number[] {
  // A row's cost can depend on the row before it (what that one left in memory and on the disk), so the
  // order changes from round to round: round r takes the slots in steps of STEPS[r] (5 slots: steps of 1,
  // 2, 3 and 4), starting one further on, so that over 4 rounds each slot follows each other one once.
  const n = slots.length;
  if (n !== STEPS.length + 1) throw new BenchError("STEPS are made for 5 rows");
  const step = STEPS[round % STEPS.length] as number;
  return slots.flatMap((_, k) => {
    const rows = slots[(round + k * step) % n] as number[];
    return rows.map((_, j) => rows[(j + round) % rows.length] as number);
  });
}

/**
 * Every round of every row: MB/s and CPU seconds per GiB, one per counted round. `settle` runs between
 * rows (untimed); `setSampling` says when the untraced filestore's row runs (its RSS is sampled).
 */
async function runRounds(
  targets: Target[],
  slots: number[][],
  settle: () => Promise<void>,
  setSampling: (on: boolean) => void,
): Promise<{ speeds: number[][]; cpus: number[][] }> {
  const speeds = targets.map(() => [] as number[]);
  /** CPU seconds the receiving process spent per GiB uploaded. */
  const cpus = targets.map(() => [] as number[]);
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const line: string[] = targets.map(() => "");
    const warmup = round < WARMUP;
    for (const i of orderOf(round, slots)) {
      const t = targets[i] as (typeof targets)[number];
      setSampling(t.filestore);
      const cpu0 = cpuMs(t.pid);
      const t0 = performance.now();
      await t.go();
      const seconds = (performance.now() - t0) / 1000;
      if (!warmup) cpus[i]?.push(((cpuMs(t.pid) - cpu0) / 1000) * (GiB / SIZE));
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

function printSetup(load: () => string | undefined): void {
  console.log(
    `${SIZE_TEXT} (${SIZE} bytes) per upload, ${WARMUP} warm-up + ${ROUNDS} rounds (the order changes), medians; ` +
      `MB/s = 10^6 bytes/s of wall time; ${availableParallelism()} cores, load average ${load()} at the start` +
      `; filestore tracing ${tracingNote()}, metrics on`,
  );
}

/** What the filestore rows need to send an upload: curl's arguments and the chunked client. */
interface Senders {
  curl: string[];
  client: (spec: Omit<ClientSpec, "file" | "size">) => Promise<Record<string, unknown>>;
  sha256: string;
  /** The last multipart upload's parts and timings, for the table's note. */
  onParts: (note: string) => void;
}

/**
 * The filestore's rows on one all-in-one (`label` before their names, for a traced twin): a single streamed
 * PUT and a multipart session, each checked against the payload's digest. Each has its own user and token.
 */
async function filestoreRows(
  s: Senders,
  store: { url: string; proc: { pid: number } },
  label = "",
): Promise<Target[]> {
  const token = await benchUserToken(store.url);
  let uploads = 0;
  const prefix = label ? `  ${label}: ` : "filestore ";
  return [
    {
      name: `${prefix}single PUT (gateway)`,
      filestore: !label,
      pid: store.proc.pid,
      async go() {
        const out = await run([
          ...s.curl,
          "-H",
          `authorization: Bearer ${token}`,
          `${store.url}/upload/v1/files?name=bench-${++uploads}.bin`,
        ]);
        const file = JSON.parse(out).file;
        if (file?.sha256 !== s.sha256 || file?.size !== String(SIZE))
          throw new BenchError(`single upload answered ${out}`);
      },
    },
    {
      name: `${prefix}multipart, ${PARALLEL_PARTS} parallel parts`,
      filestore: !label,
      pid: store.proc.pid,
      async go() {
        const r = await s.client({
          kind: "multipart",
          base: store.url,
          token,
          name: `bench-${++uploads}.bin`,
        });
        if (r.sha256 !== s.sha256 || r.size !== SIZE)
          throw new BenchError(`multipart upload gave ${JSON.stringify(r)}`);
        const sec = r.seconds as { parts: number; complete: number };
        s.onParts(
          `${r.parts} × ${Number(r.partSize) / MiB} MiB parts; last round: parts ${sec.parts.toFixed(2)} s, ` +
            `CompleteUploadSession ${sec.complete.toFixed(2)} s`,
        );
      },
    },
  ];
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
  // The access tokens must outlive the run (15 minutes by default; a loaded machine's run takes longer).
  const env = { ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600) };
  const store = await startFilestore({ env });
  const health = await fetch(`${store.url}/healthz`);
  if (!health.ok) throw new BenchError(`gateway /healthz answered ${health.status}`);
  // BENCH_TRACING=both: traced twins, each with a data directory of its own (tmp/data-<name>).
  const twins = BOTH ? await startTracedTwins(harness, env) : [];

  const payload = join(tmp, "payload.bin");
  process.stdout.write(`generating the ${SIZE_TEXT} payload ... `);
  const sha256 = await makePayload(payload, SIZE);
  console.log(sha256.slice(0, 16));

  const curl = ["curl", "-sS", "--fail-with-body", "-H", "Expect:", "-T", payload];
  let partsNote = "";
  const senders: Senders = {
    curl,
    sha256,
    client: async (spec) =>
      JSON.parse(
        await run([
          process.execPath,
          join(import.meta.dir, "upload-client.ts"),
          JSON.stringify({ ...spec, file: payload, size: SIZE }),
        ]),
      ),
    onParts: (note) => {
      partsNote = note;
    },
  };

  let sampling = false;
  let peakRss = 0;
  const sampler = setInterval(() => {
    if (sampling) peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  }, 50);
  const idleRss = rssKiB(store.proc.pid, "VmRSS");

  // Between rows (untimed): each row's cleanup, the filestores' background removals (tmp/removed-*), then
  // sync(1), so that no row pays for the writeback or the deletions of the row before it.
  const filestoreTmps = ["data", ...twins.map((t) => `data-${t.name}`)].map((d) =>
    join(tmp, d, "blobs-root", "tmp"),
  );
  const settle = async () => {
    for (let i = 0; i < 200; i++) {
      const busy = filestoreTmps.some((dir) => readdirSync(dir).some((f) => f.startsWith("removed-")));
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
        const r = await senders.client({ kind: "tus", base: tus.url });
        const stored = statSync(join(tusDir, String(r.id))).size;
        if (r.size !== SIZE || stored !== SIZE)
          throw new BenchError(`tus stored ${stored} bytes, not ${SIZE}`);
      },
      cleanup: () => emptyDir(tusDir),
    },
    ...(await filestoreRows(senders, store)),
  ];
  // Slots of the order: the five rows, the filestore's two with their traced twins (rows 5 on).
  const slots = targets.map((_, i) => [i]);
  for (const twin of twins) {
    const at = targets.length;
    targets.push(...(await filestoreRows(senders, twin.proc, twin.label)));
    slots[3]?.push(at);
    slots[4]?.push(at + 1);
  }

  const load = () => loadavg()[0]?.toFixed(1);
  printSetup(load);
  const steal = stealMeter();
  const { speeds, cpus } = await runRounds(targets, slots, settle, (on) => {
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
  const figures = (i: number) => ({
    speeds: speeds[i] ?? [],
    cpus: (cpus[i] ?? []).map((s) => s * 1000),
  });
  printTracingCost(
    twins.flatMap((t, k) => [
      { label: t.label, kind: "single PUT", off: figures(3), on: figures(5 + 2 * k) },
      { label: t.label, kind: "multipart", off: figures(4), on: figures(6 + 2 * k) },
    ]),
  );
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

await runMain(main);
