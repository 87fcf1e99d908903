// `npm run bench:download`: downloads from the full stack of the all-in-one filestore (the gateway port:
// access token checked, file looked up in meta, ownership, validators, Range) next to the baseline,
// a bare Bun.serve handler returning `Bun.file()` of the same file, the stored blob
// (bench/download-baseline.ts), sent the same requests (the access token too, which it ignores), in the
// same run, in rounds after an uncounted warm-up round. Within a round the rows of a kind take turns, a
// short slice each, so that the machine's slow swings (±15% over seconds here) fall on every row alike:
//   - a 1 GiB file, whole, fetched 5 times per round and row by curl into /dev/null, one GET per turn
//     (MB/s = 10^6 bytes per second of wall time); a context row adds the browser path (a request with
//     Origin goes through the Hono gateway, CORS and the streamed forward instead of the all-in-one
//     shortcut to the download worker). With taskset and 2+ CPUs, curl runs on the first CPU and the
//     server (every thread) on the last one for these rows, as a client on another machine would: left to
//     the scheduler, the two sometimes share a CPU, and one stream then runs at half speed (1.5–1.7
//     against 3.0–3.4 GB/s for the baseline here), which made these rows bimodal whatever the server;
//   - 64 connections of ranged GETs of 1 MiB at random MiB offsets for BENCH_RANGE_SECONDS per round and
//     row, by wrk with a Lua script, in turns of 1 s (MB/s of range payload, the median of the turns'
//     p50/p99 latencies, and any non-2xx answer fails the run).
// Prints the ratio to the baseline, the CPU time the serving process spent per GiB (robust when other work
// shares the machine, unlike wall-time speeds) and the peak RSS of the filestore process (sampled every
// 50 ms while it serves, plus the kernel's high-water mark).
//
// Env: BENCH_ROUNDS (default 5) rounds, medians; BENCH_WARMUP (default 1) uncounted rounds first (the
// JIT: the filestore's first second of range requests costs up to 60% more CPU per request than later);
// BENCH_RANGE_SECONDS (default 5); BENCH_ENFORCE=1 exits 1 when a target is missed; BENCH_TRACING=1 runs the filestore with
// tracing on, its spans exported to a local OTLP sink (compare the ratios of a run with and without). Needs curl and wrk
// (Debian: apt-get install curl wrk).
import { readdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
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

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const CONNECTIONS = 64;
/**
 * Whole-file downloads per round and row: one takes a third of a second here, and the same server's GETs
 * spread from 2000 to 4000 MB/s (with 3, a round's ratio to the baseline ranged from 0.70 to 1.19).
 */
const WHOLE_GETS = 5;
const TARGET_BASELINE = 0.9;
const TARGET_RSS_MIB = 150;

const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const RANGE_SECONDS = Number(process.env.BENCH_RANGE_SECONDS || 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("BENCH_ROUNDS must be a whole number >= 1");
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error("BENCH_WARMUP must be a whole number >= 0");
if (!Number.isInteger(RANGE_SECONDS) || RANGE_SECONDS < 1)
  throw new Error("BENCH_RANGE_SECONDS must be a whole number >= 1");

const { tmp, start, startFilestore, run, runMain } = createHarness("filestore-bench-download");

/** A wrk script: GETs of random whole MiB ranges; prints one parseable result line. */
function wrkScript(path: string, authorization?: string): string {
  const file = join(tmp, `${path}.lua`);
  writeFileSync(
    file,
    `local auth = ${authorization ? JSON.stringify(authorization) : "nil"}
math.randomseed(42)
request = function()
  local i = math.random(0, ${SIZE / MiB - 1})
  local h = { ["Range"] = "bytes=" .. (i * ${MiB}) .. "-" .. (i * ${MiB} + ${MiB - 1}) }
  if auth then h["Authorization"] = auth end
  return wrk.format("GET", nil, h)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  return file;
}

/** One turn of a row: a GET of the whole file, or 1 s of wrk. */
interface Turn {
  /** Bytes of payload served. */
  bytes: number;
  seconds: number;
  /** wrk's latency percentiles, µs. */
  p50?: number;
  p99?: number;
}

/** A row's figures for one round (its turns pooled). */
interface Sample {
  mbs: number;
  p50?: number;
  p99?: number;
  /** CPU time (user + system) of the serving process per GiB served, ms. */
  cpu: number;
}

/** The medians of wrk's latency percentiles (none for the whole-file rows, which curl runs). */
function latencies(xs: { p50?: number; p99?: number }[]): { p50?: number; p99?: number } {
  if (xs[0]?.p50 === undefined) return {};
  return { p50: median(xs.map((x) => x.p50 as number)), p99: median(xs.map((x) => x.p99 as number)) };
}

const CPUS = availableParallelism();
const PIN = CPUS >= 2 && Bun.which("taskset") !== null;

/** Runs `work` with the server `pid` on the last CPU and the client command prefix for the first one. */
async function apart<T>(pid: number, work: (client: string[]) => Promise<T>): Promise<T> {
  if (!PIN) return work([]);
  const was = /list:\s*(\S+)/.exec(await run(["taskset", "-c", "-p", String(pid)]))?.[1];
  if (!was) throw new BenchError(`taskset printed no affinity for ${pid}`);
  await run(["taskset", "-a", "-c", "-p", String(CPUS - 1), String(pid)]);
  try {
    return await work(["taskset", "-c", "0"]);
  } finally {
    await run(["taskset", "-a", "-c", "-p", was, String(pid)]);
  }
}

/** One download of the whole file (one curl, one connection). */
async function wholeFile(url: string, headers: string[], pid: number): Promise<Turn> {
  const out = await apart(pid, (client) =>
    run([
      ...client,
      "curl",
      "-sS",
      "--fail",
      ...headers.flatMap((h) => ["-H", h]),
      "-o",
      "/dev/null",
      "-w",
      "%{size_download} %{time_total}",
      url,
    ]),
  );
  const [bytes, seconds] = out.trim().split(" ").map(Number) as [number, number];
  if (bytes !== SIZE) throw new BenchError(`${url} sent ${bytes} bytes, not ${SIZE}`);
  return { bytes, seconds };
}

/** 1 s of ranged GETs by wrk. */
async function ranges(url: string, script: string): Promise<Turn> {
  const out = await run(["wrk", "-t2", `-c${CONNECTIONS}`, "-d1s", "--timeout", "10s", "-s", script, url]);
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out);
  if (!m) throw new BenchError(`wrk printed no result:\n${out}`);
  const [requests, micros, errors, p50, p99] = m.slice(1).map(Number) as number[];
  if (errors) throw new BenchError(`wrk saw ${errors} failed or non-2xx requests against ${url}:\n${out}`);
  return { bytes: (requests as number) * MiB, seconds: (micros as number) / 1e6, p50, p99 };
}

/** Streams a URL's body into SHA-256 (a correctness check before timing). */
async function sha256Of(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(url, { headers });
  if (!res.ok || !res.body) throw new BenchError(`${url} answered ${res.status}`);
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hasher.update(chunk);
  return hasher.digest("hex");
}

/** What bench:download measured, for its table. */
interface Measured {
  /** The rows' names, in table order. */
  names: string[];
  /** Each row's figures, one per counted round. */
  samples: Sample[][];
  /** KiB. */
  peakRss: number;
  idleRss: number;
  hwm: number;
  steal: () => string;
}

/** Prints the table of medians and targets; true when a target was missed. */
function report(r: Measured): boolean {
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
  const row = (i: number, baseIndex: number, goal = false) => {
    const s = med[i] as Sample;
    const base = med[baseIndex] as Sample;
    const ratio = s.mbs / base.mbs;
    const cpu = `${s.cpu.toFixed(0).padStart(8)}${(base.cpu / s.cpu).toFixed(2).padStart(8)}`;
    let target = "";
    if (goal) {
      missed ||= ratio < TARGET_BASELINE;
      target = `   ≥ ${TARGET_BASELINE} × baseline (${verdict(ratio >= TARGET_BASELINE)})`;
    }
    return `${r.names[i]?.padEnd(42)}${s.mbs.toFixed(0).padStart(8)}${ratio.toFixed(2).padStart(8)}${ms(s.p50).padStart(9)}${ms(s.p99).padStart(9)}${cpu}${target}`;
  };
  console.log();
  console.log(
    `${"benchmark".padEnd(42)}${"MB/s".padStart(8)}${"×base".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"CPU/GiB".padStart(8)}${"eff".padStart(8)}   targets`,
  );
  console.log(row(0, 0));
  console.log(row(1, 0, true));
  console.log(row(2, 0));
  console.log(row(3, 3));
  console.log(row(4, 3, true));
  const perRound = (i: number, b: number) =>
    samples[i]?.map((s, r) => (s.mbs / (samples[b]?.[r]?.mbs as number)).toFixed(2)).join(" ");
  console.log(`×base round by round: whole file ${perRound(1, 0)}; ranges ${perRound(4, 3)}`);
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

async function main(): Promise<number> {
  for (const tool of ["curl", "wrk"])
    if (!Bun.which(tool))
      throw new BenchError(`${tool} is not installed: run \`apt-get install -y ${tool}\``);
  const payload = join(tmp, "payload.bin");
  process.stdout.write("generating the 1 GiB payload ... ");
  const sha256 = await makePayload(payload, SIZE);
  console.log(sha256.slice(0, 16));

  const store = await startFilestore();
  const token = await benchUserToken(store.url);
  const auth = `authorization: Bearer ${token}`;

  process.stdout.write("uploading it ... ");
  const uploaded = JSON.parse(
    await run([
      "curl",
      "-sS",
      "--fail-with-body",
      "-H",
      "Expect:",
      "-H",
      auth,
      "-T",
      payload,
      `${store.url}/upload/v1/files?name=bench.bin`,
    ]),
  ).file;
  if (uploaded?.sha256 !== sha256) throw new BenchError(`the upload answered ${JSON.stringify(uploaded)}`);
  const fileUrl = `${store.url}/download/v1/files/${uploaded.id}`;
  console.log(uploaded.id);
  // The baseline serves the stored blob itself: the same inode, so the same page-cache pages. Serving the
  // payload (equal bytes, another file) made the baseline's kernel cost differ by up to 15% from one file
  // to the other (sendfile walks the page cache's folios, whose sizes depend on how a file was written).
  const blobDir = join(tmp, "data", "blobs-root", "blobs", sha256.slice(0, 2), sha256.slice(2, 4));
  const blobName = readdirSync(blobDir).find((f) => f.startsWith(`${sha256}.`));
  if (!blobName) throw new BenchError(`no blob of ${sha256} under ${blobDir}`);
  const baseline = await start(
    "baseline",
    [process.execPath, "bench/download-baseline.ts"],
    { BASELINE_FILE: join(blobDir, blobName), PORT: benchPort() },
    /listening on (http:\/\/\S+)/,
  );
  for (const [url, headers] of [
    [`${baseline.url}/`, {}],
    [fileUrl, { authorization: `Bearer ${token}` }],
  ] as const) {
    if ((await sha256Of(url, headers)) !== sha256) throw new BenchError(`${url} sent other bytes`);
  }
  // The baseline gets the very requests the filestore gets, the access token included (it ignores it): the
  // client's and the kernel's share of the work is then the same, and the rows differ in the server only.
  const baselineScript = wrkScript("baseline", `Bearer ${token}`);
  const storeScript = wrkScript("filestore", `Bearer ${token}`);

  let sampling = false;
  let peakRss = 0;
  const sampler = setInterval(() => {
    if (sampling) peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  }, 50);
  const idleRss = rssKiB(store.proc.pid, "VmRSS");

  const targets: { name: string; filestore: boolean; go: () => Promise<Turn> }[] = [
    {
      name: "baseline: Bun.file(), whole 1 GiB",
      filestore: false,
      go: () => wholeFile(`${baseline.url}/`, [auth], baseline.proc.pid),
    },
    {
      name: "filestore whole 1 GiB (gateway)",
      filestore: true,
      go: () => wholeFile(fileUrl, [auth], store.proc.pid),
    },
    {
      name: "  context: browser path (Origin, Hono)",
      filestore: true,
      go: () => wholeFile(fileUrl, [auth, "origin: https://app.example"], store.proc.pid),
    },
    {
      name: `baseline: ${CONNECTIONS} × ranged 1 MiB GETs`,
      filestore: false,
      go: () => ranges(`${baseline.url}/`, baselineScript),
    },
    {
      name: `filestore ${CONNECTIONS} × ranged 1 MiB (gateway)`,
      filestore: true,
      go: () => ranges(fileUrl, storeScript),
    },
  ];

  /** Rows that take turns within a round, and how many turns each gets. */
  const kinds = [
    { rows: [0, 1, 2], turns: WHOLE_GETS },
    { rows: [3, 4], turns: RANGE_SECONDS },
  ];

  console.log(
    `${WARMUP} warm-up + ${ROUNDS} rounds, medians; the rows of a kind take turns within a round; MB/s = 10^6 bytes/s; ` +
      `whole file: ${WHOLE_GETS} GETs per row and round, ` +
      (PIN ? `curl on CPU 0, the server on CPU ${CPUS - 1}` : "CPUs left to the scheduler") +
      `; ranges: ${RANGE_SECONDS} turns of 1 s of wrk per row and round, ${CONNECTIONS} connections, 2 threads` +
      `; filestore tracing ${process.env.BENCH_TRACING === "1" ? "on (every span exported to a local OTLP sink)" : "off"}, metrics on`,
  );
  const samples = targets.map(() => [] as Sample[]);
  const steal = stealMeter();
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const warmup = round < WARMUP;
    const turns = targets.map(() => [] as Turn[]);
    const cpu = targets.map(() => 0);
    for (const { rows, turns: n } of kinds) {
      for (let k = 0; k < n; k++) {
        // Each turn starts one row further on, so that no row always follows the same one.
        for (let j = 0; j < rows.length; j++) {
          const i = rows[(j + k) % rows.length] as number;
          const t = targets[i] as (typeof targets)[number];
          const pid = t.filestore ? store.proc.pid : baseline.proc.pid;
          sampling = t.filestore && !warmup;
          const cpu0 = cpuMs(pid);
          turns[i]?.push(await t.go());
          cpu[i] = (cpu[i] as number) + cpuMs(pid) - cpu0;
          sampling = false;
        }
      }
    }
    const figures = turns.map((ts, i): Sample => {
      const bytes = ts.reduce((sum, t) => sum + t.bytes, 0);
      const seconds = ts.reduce((sum, t) => sum + t.seconds, 0);
      const cpuMsPerGiB = ((cpu[i] as number) * SIZE) / bytes;
      return { mbs: bytes / 1e6 / seconds, ...latencies(ts), cpu: cpuMsPerGiB };
    });
    if (!warmup) for (const [i, s] of figures.entries()) samples[i]?.push(s);
    const line = figures.map((s) => s.mbs.toFixed(0)).join(" / ");
    console.log(`${warmup ? "warm-up" : `round ${round - WARMUP + 1}`}: ${line} MB/s`);
  }
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  const hwm = rssKiB(store.proc.pid, "VmHWM");

  const missed = report({ names: targets.map((t) => t.name), samples, peakRss, idleRss, hwm, steal });
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

await runMain(main);
