// `npm run bench:dav`: WebDAV on the all-in-one filestore (SQLite), through the gateway port, as a Bearer
// caller (the same auth step every request of a client with a cached app-password exchange takes):
//   - PROPFIND Depth 1 of a folder of BENCH_DAV_FILES (10 000) files, seeded through the data layer in bulk
//     (bench/dav-seed.ts): BENCH_DAV_PROPFINDS timed requests (after 3 uncounted), each until its last
//     byte, p50 and p99 (target p50 < 150 ms);
//   - PUT and GET of a BENCH_DAV_MIB (256) MiB file by curl, WebDAV (/dav/…) against the data plane's own
//     PUT /upload/v1/files and GET /download/v1/files/<id>, the two rows of each pair taking turns
//     (BENCH_ROUNDS turns each after one uncounted), medians, ratio to the data plane (target ≥ 0.85 ×), and
//     the CPU time the filestore spent per GiB on each (wall-time speeds swing with other load here).
// BENCH_ENFORCE=1 exits 1 when a target is missed; BENCH_PORT_RANGE keeps servers on given ports.
import { join } from "node:path";
import { seedBigFolder } from "./dav-seed.ts";
import { BenchError, benchUserToken, cpuMs, createHarness, makePayload, median } from "./harness.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const FILES = Number(process.env.BENCH_DAV_FILES || 10_000);
const PROPFINDS = Number(process.env.BENCH_DAV_PROPFINDS || 30);
const SIZE = Number(process.env.BENCH_DAV_MIB || 256) * MiB;
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const TARGET_P50_MS = 150;
const TARGET_RATIO = 0.85;

const { tmp, startFilestore, run, runMain } = createHarness("filestore-bench-dav");

/** A percentile of sorted samples (nearest rank). */
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

/** One PROPFIND Depth 1, timed to its last byte; checks it lists every entry. */
async function propfind(url: string, auth: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { method: "PROPFIND", headers: { authorization: auth, depth: "1" } });
  const body = await res.text();
  const ms = performance.now() - t0;
  const responses = body.split("<d:response>").length - 1;
  if (res.status !== 207 || responses !== FILES + 1)
    throw new BenchError(`PROPFIND answered ${res.status} with ${responses} responses, not ${FILES + 1}`);
  return ms;
}

/** One curl transfer: MB/s (10^6 bytes per second of wall time) and the filestore's CPU ms per GiB. */
async function curl(pid: number, args: string[], field: "size_upload" | "size_download") {
  const cpu0 = cpuMs(pid);
  const out = await run([
    "curl",
    "-sS",
    "--fail",
    "-H",
    "Expect:",
    "-o",
    "/dev/null",
    "-w",
    `%{${field}} %{time_total}`,
    ...args,
  ]);
  const cpu = ((cpuMs(pid) - cpu0) * GiB) / SIZE;
  const [bytes, seconds] = out.trim().split(" ").map(Number) as [number, number];
  if (bytes !== SIZE) throw new BenchError(`curl ${args.at(-1)} moved ${bytes} bytes, not ${SIZE}`);
  return { mbs: bytes / 1e6 / seconds, cpu };
}

type Turn = Awaited<ReturnType<typeof curl>>;

async function main(): Promise<number> {
  if (!Bun.which("curl")) throw new BenchError("curl is not installed: run `apt-get install -y curl`");
  const store = await startFilestore();
  const token = await benchUserToken(store.url);
  const auth = `Bearer ${token}`;
  const h = `authorization: ${auth}`;

  // The big folder: one small upload, then FILES rows naming its content.
  const small = join(tmp, "small.txt");
  await Bun.write(small, "x".repeat(1024));
  const up = JSON.parse(
    await run(["curl", "-sS", "--fail", "-H", h, "-T", small, `${store.url}/upload/v1/files?name=seed.txt`]),
  );
  process.stdout.write(`seeding ${FILES} files through the data layer ... `);
  const t0 = performance.now();
  await seedBigFolder(`sqlite:${join(tmp, "data", "filestore.db")}`, up.file.id, "big", FILES);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const folderUrl = `${store.url}/dav/big/`;
  for (let i = 0; i < 3; i++) await propfind(folderUrl, auth);
  const times: number[] = [];
  const cpu0 = cpuMs(store.proc.pid);
  for (let i = 0; i < PROPFINDS; i++) times.push(await propfind(folderUrl, auth));
  // CPU time the filestore spent per request (mean): what the machine's other load does not inflate.
  const cpuPerPropfind = (cpuMs(store.proc.pid) - cpu0) / PROPFINDS;
  times.sort((a, b) => a - b);
  const [p50, p99] = [pct(times, 50), pct(times, 99)];

  const payload = join(tmp, "payload.bin");
  process.stdout.write(`generating the ${SIZE / MiB} MiB payload ... `);
  const sha256 = await makePayload(payload, SIZE);
  console.log(sha256.slice(0, 16));
  const pid = store.proc.pid;
  const planePut = (k: number) =>
    curl(pid, ["-H", h, "-T", payload, `${store.url}/upload/v1/files?name=plane-${k}.bin`], "size_upload");
  const davPut = (k: number) =>
    curl(pid, ["-H", h, "-T", payload, `${store.url}/dav/dav-${k}.bin`], "size_upload");
  const first = JSON.parse(
    await run(["curl", "-sS", "--fail", "-H", h, "-T", payload, `${store.url}/upload/v1/files?name=get.bin`]),
  );
  if (first.file?.sha256 !== sha256) throw new BenchError(`the upload answered ${JSON.stringify(first)}`);
  const planeGet = () =>
    curl(pid, ["-H", h, `${store.url}/download/v1/files/${first.file.id}`], "size_download");
  const davGet = () => curl(pid, ["-H", h, `${store.url}/dav/get.bin`], "size_download");

  const rows = { planePut: [] as Turn[], davPut: [] as Turn[], planeGet: [] as Turn[], davGet: [] as Turn[] };
  for (let k = 0; k <= ROUNDS; k++) {
    // Each pair alternates which row goes first; round 0 is uncounted (warm-up).
    const pair = async (a: () => Promise<Turn>, b: () => Promise<Turn>) =>
      k % 2 ? [await a(), await b()] : [await b(), await a()].reverse();
    const [pp, dp] = (await pair(
      () => planePut(k),
      () => davPut(k),
    )) as [Turn, Turn];
    const [pg, dg] = (await pair(planeGet, davGet)) as [Turn, Turn];
    const f = (t: Turn) => t.mbs.toFixed(0);
    console.log(
      `${k === 0 ? "warm-up" : `round ${k}`}: PUT ${f(pp)} / ${f(dp)}, GET ${f(pg)} / ${f(dg)} MB/s (data plane / WebDAV)`,
    );
    if (k === 0) continue;
    rows.planePut.push(pp);
    rows.davPut.push(dp);
    rows.planeGet.push(pg);
    rows.davGet.push(dg);
  }

  let missed = p50 >= TARGET_P50_MS;
  console.log();
  console.log(
    `PROPFIND Depth 1, ${FILES} files, ${PROPFINDS} requests: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target p50 < ${TARGET_P50_MS}: ${p50 < TARGET_P50_MS ? "met" : "MISSED"}); filestore CPU ${cpuPerPropfind.toFixed(0)} ms per request`,
  );
  console.log(
    `${"row".padEnd(24)}${"MB/s".padStart(8)}${"baseline".padStart(10)}${"×base".padStart(8)}${"CPU/GiB".padStart(9)}${"baseline".padStart(10)}${"eff".padStart(7)}   target`,
  );
  for (const [name, got, base] of [
    [`WebDAV PUT ${SIZE / MiB} MiB`, rows.davPut, rows.planePut],
    [`WebDAV GET ${SIZE / MiB} MiB`, rows.davGet, rows.planeGet],
  ] as const) {
    const [m, b] = [median(got.map((t) => t.mbs)), median(base.map((t) => t.mbs))];
    const [c, cb] = [median(got.map((t) => t.cpu)), median(base.map((t) => t.cpu))];
    const ratio = m / b;
    missed ||= ratio < TARGET_RATIO;
    console.log(
      `${name.padEnd(24)}${m.toFixed(0).padStart(8)}${b.toFixed(0).padStart(10)}${ratio.toFixed(2).padStart(8)}${c.toFixed(0).padStart(9)}${cb.toFixed(0).padStart(10)}${(cb / c).toFixed(2).padStart(7)}   ≥ ${TARGET_RATIO} × data plane (${ratio >= TARGET_RATIO ? "met" : "MISSED"})`,
    );
  }
  console.log(
    `baseline: the data plane's own PUT /upload/v1/files and GET /download/v1/files/<id>; ${ROUNDS} rounds, medians; ` +
      "CPU/GiB: ms of CPU the filestore process spent per GiB moved (what holds on a shared machine); eff: baseline's over WebDAV's",
  );
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

await runMain(main);
