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
//   - a folder of 64 files (4 MiB each, slices of the payload) fetched as one ZIP (CreateFolderZipUrl,
//     bench/download-zip.ts) by curl, one GET per turn beside the whole-file rows; its ratio is to the
//     filestore's whole-file row (target ≥ 0.8: the ZIP's stored entries are the same bytes plus headers
//     and a CRC-32 over every byte).
//   - the same file shared by a link (bench/download-share.ts): ranged GETs of the URL a visitor mints
//     (CreateShareDownloadUrl, no access token; the share re-checked in meta on every request), with the
//     range rows; its ratio is to the owner's ranged row (target ≥ 0.9).
// Prints the ratio to the baseline, the CPU time the serving process spent per GiB (robust when other work
// shares the machine, unlike wall-time speeds) and the peak RSS of the filestore process (sampled every
// 50 ms while it serves, plus the kernel's high-water mark).
//
// Env: BENCH_ROUNDS (default 5) rounds, medians; BENCH_WARMUP (default 1) uncounted rounds first (the
// JIT: the filestore's first second of range requests costs up to 60% more CPU per request than later);
// BENCH_RANGE_SECONDS (default 5); BENCH_WHOLE_GETS (default 5) whole-file GETs per row and round; BENCH_ENFORCE=1 exits 1 when a target is missed; BENCH_TRACING=1 runs the filestore with
// tracing on, its spans exported to a local OTLP sink (compare the ratios of a run with and without);
// BENCH_TRACING=both adds a second all-in-one over the same data directory (so the same blob file, the same
// page-cache pages) with tracing on, whose whole-file and ranged rows take turns with the untraced ones:
// what tracing costs, measured in one run (the machine's swings fall on both alike; the context, ZIP and
// share rows are left out). BENCH_TRACING_BEFORE=DIR (with both) adds a third, traced, all-in-one run from
// another checkout (e.g. `git worktree add DIR <commit>`, with its node_modules): before and after a change
// to tracing, in one run. Needs curl and wrk
// (Debian: apt-get install curl wrk). Rows behind nginx (download-nginx.ts; needs Debian's nginx-light):
// the filestore with DOWNLOAD_ACCEL=nginx behind deploy/nginx/filestore.conf against a bare nginx sending
// the same blob file, whole and in 1 MiB ranges (target ≥ 0.95 ×); BENCH_NGINX=0 leaves them out.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startBehindNginx } from "./download-nginx.ts";
import { downloadRequests, sha256Of } from "./download-requests.ts";
import { sharedFileUrl } from "./download-share.ts";
import {
  type Line,
  latencies,
  report,
  type Sample,
  type Table,
  type Target,
  type Turn,
} from "./download-table.ts";
import { BOTH, tracingRows } from "./download-tracing.ts";
import { ZIP_FILE_SIZE, ZIP_FILES, zipFolder } from "./download-zip.ts";
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

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const CONNECTIONS = 64;
/**
 * Whole-file downloads per round and row: one takes a third of a second here, and the same server's GETs
 * spread from 2000 to 4000 MB/s (with 3, a round's ratio to the baseline ranged from 0.70 to 1.19).
 */
const WHOLE_GETS = Number(process.env.BENCH_WHOLE_GETS || 5);
const TARGET_BASELINE = 0.9;
/** Behind nginx, the filestore against a bare nginx sending the same file (issue 21). */
const TARGET_NGINX = 0.95;
const TARGET_ZIP = 0.8;
/** A shared file's ranged download against the owner's (issue 18). */
const TARGET_SHARE = 0.9;

const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const RANGE_SECONDS = Number(process.env.BENCH_RANGE_SECONDS || 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("BENCH_ROUNDS must be a whole number >= 1");
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error("BENCH_WARMUP must be a whole number >= 0");
if (!Number.isInteger(RANGE_SECONDS) || RANGE_SECONDS < 1)
  throw new Error("BENCH_RANGE_SECONDS must be a whole number >= 1");

const harness = createHarness("filestore-bench-download");
const { tmp, start, startFilestore, run, runMain } = harness;
/** The rows behind nginx (download-nginx.ts); BENCH_NGINX=0 leaves them out. */
const NGINX = process.env.BENCH_NGINX !== "0";

const requests = downloadRequests({ tmp, run, size: SIZE, connections: CONNECTIONS });
const { wrkScript, wholeFile, ranges, placement } = requests;
const tracing = tracingRows({
  harness,
  requests,
  wholeGets: WHOLE_GETS,
  rangeSeconds: RANGE_SECONDS,
  targetBaseline: TARGET_BASELINE,
});

/** The warm-up and counted rounds: each kind's rows take turns; a row's figures per counted round. */
async function runRounds(table: Table, sample: (on: boolean) => void): Promise<Sample[][]> {
  const { targets, kinds } = table;
  const samples = targets.map(() => [] as Sample[]);
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
          const cpuOf = () => t.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
          sample(t.filestore && !warmup);
          const cpu0 = cpuOf();
          turns[i]?.push(await t.go());
          cpu[i] = (cpu[i] as number) + cpuOf() - cpu0;
          sample(false);
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
    // Rows that take no turns (BENCH_TRACING=both leaves some out) are not listed.
    const line = figures
      .filter((_, i) => (turns[i]?.length ?? 0) > 0)
      .map((s) => s.mbs.toFixed(0))
      .join(" / ");
    console.log(`${warmup ? "warm-up" : `round ${round - WARMUP + 1}`}: ${line} MB/s`);
  }
  return samples;
}

/** The rows behind nginx (download-nginx.ts): a bare nginx and the filestore behind one, whole and ranged. */
async function addNginxRows(table: Table, payload: string, sha256: string): Promise<void> {
  const { targets, kinds, lines } = table;
  const n = await startBehindNginx(harness, payload, sha256);
  const auth2 = `authorization: Bearer ${n.token}`;
  const [staticWorker, frontWorker] = [n.staticNginx.workerPid(), n.frontNginx.workerPid()];
  for (const [url, headers] of [
    [n.staticUrl, {}],
    [n.fileUrl, { authorization: `Bearer ${n.token}` }],
  ] as const) {
    if ((await sha256Of(url, headers)) !== sha256) throw new BenchError(`${url} sent other bytes`);
  }
  const [staticScript, frontScript] = [
    wrkScript("nginx", `Bearer ${n.token}`),
    wrkScript("front", `Bearer ${n.token}`),
  ];
  const at = targets.length;
  targets.push(
    {
      name: "nginx: sendfile, whole 1 GiB",
      filestore: false,
      pids: [staticWorker],
      go: () => wholeFile(n.staticUrl, [auth2], staticWorker),
    },
    {
      name: "filestore behind nginx (X-Accel), whole",
      filestore: false,
      pids: [frontWorker, n.filestorePid],
      go: () => wholeFile(n.fileUrl, [auth2], frontWorker),
    },
    {
      name: `nginx: ${CONNECTIONS} × ranged 1 MiB GETs`,
      filestore: false,
      pids: [staticWorker],
      go: () => ranges(n.staticUrl, staticScript),
    },
    {
      name: "filestore behind nginx, ranged 1 MiB",
      filestore: false,
      pids: [frontWorker, n.filestorePid],
      go: () => ranges(n.fileUrl, frontScript),
    },
  );
  kinds.push({ rows: [at, at + 1], turns: WHOLE_GETS }, { rows: [at + 2, at + 3], turns: RANGE_SECONDS });
  lines.push(
    { row: at, base: at },
    { row: at + 1, base: at, target: TARGET_NGINX },
    { row: at + 2, base: at + 2 },
    { row: at + 3, base: at + 2, target: TARGET_NGINX },
  );
}

/** Uploads the payload through the filestore's data plane; its file record. */
async function uploadPayload(url: string, auth: string, payload: string, sha256: string) {
  process.stdout.write("uploading it ... ");
  const uploaded: { id: string; sha256: string } | undefined = JSON.parse(
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
      `${url}/upload/v1/files?name=bench.bin`,
    ]),
  ).file;
  if (uploaded?.sha256 !== sha256) throw new BenchError(`the upload answered ${JSON.stringify(uploaded)}`);
  return uploaded;
}

async function main(): Promise<number> {
  for (const tool of ["curl", "wrk"])
    if (!Bun.which(tool))
      throw new BenchError(`${tool} is not installed: run \`apt-get install -y ${tool}\``);
  const payload = join(tmp, "payload.bin");
  process.stdout.write("generating the 1 GiB payload ... ");
  const sha256 = await makePayload(payload, SIZE);
  console.log(sha256.slice(0, 16));

  // The share row's minted URL must outlive the run (its default lifetime is an hour).
  // The access token must outlive the run too (15 minutes by default; a loaded machine's run takes longer).
  const store = await startFilestore({
    env: { SHARE_URL_TTL_SECONDS: String(7 * 24 * 3600), ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600) },
  });
  const token = await benchUserToken(store.url);
  const auth = `authorization: Bearer ${token}`;

  const uploaded = await uploadPayload(store.url, auth, payload, sha256);
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
  // BENCH_TRACING=both runs neither the ZIP row nor the share row: nothing to set up for them.
  const zip = BOTH ? { url: "", size: 0 } : await zipFolder(tmp, store.url, token, payload);
  const shareUrl = BOTH ? "" : await sharedFileUrl(store.url, token, uploaded.id);
  if (!BOTH && (await sha256Of(shareUrl)) !== sha256) throw new BenchError(`${shareUrl} sent other bytes`);
  const baselineScript = wrkScript("baseline", `Bearer ${token}`);
  const storeScript = wrkScript("filestore", `Bearer ${token}`);
  const shareScript = wrkScript("share"); // a visitor's requests: no access token

  let sampling = false;
  let peakRss = 0;
  const sampler = setInterval(() => {
    if (sampling) peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  }, 50);
  const idleRss = rssKiB(store.proc.pid, "VmRSS");

  const targets: Target[] = [
    {
      name: "baseline: Bun.file(), whole 1 GiB",
      filestore: false,
      pids: [baseline.proc.pid],
      go: () => wholeFile(`${baseline.url}/`, [auth], baseline.proc.pid),
    },
    {
      name: "filestore whole 1 GiB (gateway)",
      filestore: true,
      pids: [store.proc.pid],
      go: () => wholeFile(fileUrl, [auth], store.proc.pid),
    },
    {
      name: "  context: browser path (Origin, Hono)",
      filestore: true,
      pids: [store.proc.pid],
      go: () => wholeFile(fileUrl, [auth, "origin: https://app.example"], store.proc.pid),
    },
    {
      name: `baseline: ${CONNECTIONS} × ranged 1 MiB GETs`,
      filestore: false,
      pids: [baseline.proc.pid],
      go: () => ranges(`${baseline.url}/`, baselineScript),
    },
    {
      name: `filestore ${CONNECTIONS} × ranged 1 MiB (gateway)`,
      filestore: true,
      pids: [store.proc.pid],
      go: () => ranges(fileUrl, storeScript),
    },
    {
      name: `folder ZIP, ${ZIP_FILES} × ${ZIP_FILE_SIZE / MiB} MiB (gateway)`,
      filestore: true,
      pids: [store.proc.pid],
      go: () => wholeFile(zip.url, [], store.proc.pid, zip.size),
    },
    {
      name: `shared file ${CONNECTIONS} × ranged 1 MiB (share URL)`,
      filestore: true,
      pids: [store.proc.pid],
      go: () => ranges(shareUrl, shareScript),
    },
  ];

  /** Rows that take turns within a round, and how many turns each gets. */
  const kinds = [
    { rows: [0, 1, 2, 5], turns: WHOLE_GETS },
    { rows: [3, 4, 6], turns: RANGE_SECONDS },
  ];
  const lines: Line[] = [
    { row: 0, base: 0 },
    { row: 1, base: 0, target: TARGET_BASELINE },
    { row: 2, base: 0 },
    { row: 3, base: 3 },
    { row: 4, base: 3, target: TARGET_BASELINE },
    { row: 5, base: 1, target: TARGET_ZIP },
    { row: 6, base: 4, target: TARGET_SHARE },
  ];
  const table = { targets, kinds, lines };
  const traced = BOTH ? await tracing.addTracedRows(table, uploaded.id, token, sha256) : undefined;
  if (NGINX) await addNginxRows(table, payload, sha256);

  console.log(
    `${WARMUP} warm-up + ${ROUNDS} rounds, medians; the rows of a kind take turns within a round; MB/s = 10^6 bytes/s; ` +
      `whole file: ${WHOLE_GETS} GETs per row and round, ` +
      placement +
      `; ranges: ${RANGE_SECONDS} turns of 1 s of wrk per row and round, ${CONNECTIONS} connections, 2 threads` +
      `; filestore tracing ${tracing.note()}, metrics on`,
  );
  const steal = stealMeter();
  const samples = await runRounds(table, (on) => {
    sampling = on;
  });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssKiB(store.proc.pid, "VmRSS"));
  const hwm = rssKiB(store.proc.pid, "VmHWM");

  const missed = report({ names: targets.map((t) => t.name), lines, samples, peakRss, idleRss, hwm, steal });
  if (traced) tracing.printTracingCost(samples, traced);
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

await runMain(main);
