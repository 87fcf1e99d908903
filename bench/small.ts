// `npm run bench:small`: many small files. BENCH_SMALL_FILES (default 20 000) files of 1–64 KiB (sizes and
// bytes from a fixed seed; every file's bytes are unique, so nothing is deduplicated) are uploaded by
// BENCH_CONCURRENCY (64) concurrent clients, each a keep-alive connection doing one PUT after another:
//   - filestore: a single PUT each through the all-in-one gateway (`/upload/v1/files`, Bearer token): auth,
//     hashing, fsync and rename, a file row in SQLite, the quota;
//   - Ceph RGW: the same bytes PUT to a bucket by the same client code with presigned URLs (made before the
//     clock starts), the peer the issue holds the filestore to (target ≥ 1.0 × its files/s).
// The files are sent in BENCH_ROUNDS (5) rounds; within a round each row sends its share, the order of the
// rows alternating from one round to the next (the machine is shared: both rows see its swings alike).
// Prints files/s, MB/s and per-request p50/p99 latency of each row (medians of the rounds) and the ratio.
//
// Then the watch phase: BENCH_WATCHERS (1 000) clients each hold a WatchFiles stream (Connect, server
// streaming over HTTP/1.1) and each sends one upload while all streams are open (spread over
// BENCH_WATCH_USERS users, 100 by default — 10 streams each, under FILE_MAX_WATCHES_PER_USER's 16: every
// upload is an event for each watcher of its user). Nothing may fail; the filestore's RSS is reported, and
// how many of the expected events arrived within 10 s. The npm script lifts Bun's client limit of 256
// requests in flight (BUN_CONFIG_MAX_HTTP_REQUESTS).
//
// BENCH_SMALL_BASELINE=DIR adds a row: a second all-in-one from another checkout (e.g. `git worktree add`
// of the commit before a change, its node_modules linked), measured alternating with the others in the
// same rounds, with its own CPU per file: a before/after comparison on a machine whose load swings.
//
// RGW: TEST_S3_* when set (npm test's RGW, e.g. `eval "$(bash scripts/test-deps.sh start)"`), else one of
// its own from ../shared/services/start-rgw.sh (stopped at the end).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Client } from "minio";
import { freePorts } from "../e2e/ports.ts";
import {
  account,
  BenchError,
  benchUserToken,
  cpuMs,
  createHarness,
  median,
  root,
  rssKiB,
} from "./harness.ts";
import { watchChanges } from "./watch-client.ts";

const FILES = Number(process.env.BENCH_SMALL_FILES || 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const WATCH_USERS = Number(process.env.BENCH_WATCH_USERS || 100);
const BASELINE = process.env.BENCH_SMALL_BASELINE;
const TARGET = 1.0;
for (const [name, v] of Object.entries({ FILES, CONCURRENCY, ROUNDS, WATCH_USERS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`BENCH_${name} must be a whole number >= 1`);

const harness = createHarness("filestore-bench-small");
const { tmp, startFilestore, runMain } = harness;

/** File i's bytes: 1–64 KiB cut from one random 64 KiB block, stamped with i (unique content). */
function bodies(n: number): Uint8Array<ArrayBuffer>[] {
  const block = new Uint8Array(64 * 1024);
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < block.length; i += 4) new DataView(block.buffer).setUint32(i, next());
  return Array.from({ length: n }, (_, i) => {
    const size = 1024 + (next() % (63 * 1024 + 1));
    const body = block.slice(0, size);
    new DataView(body.buffer).setUint32(0, i);
    return body;
  });
}

/** One request of a row. */
type Send = (i: number) => Promise<Response>;

/** Sends files `from`..`to` with CONCURRENCY clients; wall time and each request's latency (ms). */
async function sendAll(send: Send, from: number, to: number, expect: number) {
  let next = from;
  const latencies: number[] = [];
  const t0 = performance.now();
  const client = async () => {
    for (let i = next++; i < to; i = next++) {
      const s = performance.now();
      const res = await send(i);
      const text = await res.text();
      if (res.status !== expect)
        throw new BenchError(`request ${i} answered ${res.status}: ${text.slice(0, 300)}`);
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return { seconds: (performance.now() - t0) / 1000, latencies };
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

/** The S3 server: the tests' RGW when TEST_S3_* is set, else a fresh one (start-rgw.sh). */
interface S3Server {
  endpoint: string;
  access: string;
  secret: string;
  region: string;
  stop(): void;
}

async function s3Server(): Promise<S3Server> {
  if (process.env.TEST_S3_ENDPOINT)
    return {
      endpoint: process.env.TEST_S3_ENDPOINT,
      access: process.env.TEST_S3_ACCESS_KEY ?? "",
      secret: process.env.TEST_S3_SECRET_KEY ?? "",
      region: process.env.TEST_S3_REGION || "us-east-1",
      stop() {},
    };
  const script = join(root, "..", "shared", "services", "start-rgw.sh");
  if (!existsSync(script)) throw new BenchError(`no TEST_S3_ENDPOINT and no ${script} to start Ceph RGW`);
  const [port] = (await freePorts(1)) as [number];
  const dir = join(tmp, "rgw");
  process.stdout.write("starting Ceph RGW ... ");
  const out = await harness.run(["bash", script, dir, String(port)]);
  console.log("up");
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(out)?.[1] ?? "";
  return {
    endpoint: get("S3_ENDPOINT"),
    access: get("S3_ACCESS_KEY"),
    secret: get("S3_SECRET_KEY"),
    region: get("S3_REGION") || "us-east-1",
    stop: () => Bun.spawnSync(["bash", join(root, "..", "shared", "services", "stop-rgw.sh"), dir]),
  };
}

/** Presigned PUT URLs of every file in a fresh bucket (computed locally: no request per URL). */
async function rgwUrls(s3: S3Server, n: number): Promise<string[]> {
  const u = new URL(s3.endpoint);
  const client = new Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: u.protocol === "https:",
    accessKey: s3.access,
    secretKey: s3.secret,
    region: s3.region,
    pathStyle: true,
  });
  const bucket = `bench-small-${Date.now().toString(36)}`;
  await client.makeBucket(bucket, s3.region);
  return Promise.all(
    Array.from({ length: n }, (_, i) => client.presignedPutObject(bucket, `f/${i}.bin`, 3600)),
  );
}

interface Row {
  name: string;
  send: Send;
  expect: number;
  rounds: { filesPerS: number; mbs: number; p50: number; p99: number }[];
  /** A filestore's process, and its CPU time per file (ms) in each round. */
  pid?: number;
  cpuPerFile?: number[];
}

async function main(): Promise<number> {
  const files = bodies(FILES);
  const bytes = files.reduce((a, b) => a + b.length, 0);
  console.log(
    `${FILES} files, ${(bytes / 1e6).toFixed(0)} MB in all, ${CONCURRENCY} concurrent clients, ${ROUNDS} rounds`,
  );
  // A thousand real clients come from a thousand addresses; here they share one: lift the per-client caps
  // (data-plane requests in progress; sign-ins, one per user of the watch phase and of each row).
  const env = {
    GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT: "0",
    SIGNIN_LIMIT_PER_CLIENT: String(WATCH_USERS + 10),
  };
  const store = await startFilestore({ env });
  const rows = [await filestoreRow("filestore single PUT (gateway)", store, files)];
  if (BASELINE) {
    const main = join(BASELINE, "workers", "main.ts");
    const base = await startFilestore({ name: "baseline", env, main });
    rows.push(await filestoreRow("baseline checkout single PUT", base, files));
  }
  const s3 = await s3Server();
  try {
    const urls = await rgwUrls(s3, FILES);
    rows.push({
      name: "Ceph RGW PUT (presigned)",
      expect: 200,
      rounds: [],
      send: (i) => fetch(urls[i] as string, { method: "PUT", body: files[i] }),
    });
    return await measure(files, store, rows);
  } finally {
    s3.stop();
  }
}

/** A filestore's row: single PUTs as a fresh user, its process's CPU counted per file. */
async function filestoreRow(
  name: string,
  store: { url: string; proc: Bun.Subprocess },
  files: Uint8Array<ArrayBuffer>[],
): Promise<Row> {
  const token = await benchUserToken(store.url);
  return {
    name,
    expect: 201,
    rounds: [],
    pid: store.proc.pid,
    cpuPerFile: [],
    send: (i) =>
      fetch(`${store.url}/upload/v1/files?name=s${i}.bin`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}` },
        body: files[i],
      }),
  };
}

async function measure(
  files: Uint8Array<ArrayBuffer>[],
  store: { url: string; proc: Bun.Subprocess },
  rows: Row[],
): Promise<number> {
  const perRound = Math.ceil(FILES / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const [from, to] = [r * perRound, Math.min(FILES, (r + 1) * perRound)];
    const roundBytes = files.slice(from, to).reduce((a, b) => a + b.length, 0);
    const order = r % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const cpu0 = row.pid ? cpuMs(row.pid) : 0;
      const { seconds, latencies } = await sendAll(row.send, from, to, row.expect);
      if (row.pid) row.cpuPerFile?.push((cpuMs(row.pid) - cpu0) / (to - from));
      row.rounds.push({
        filesPerS: (to - from) / seconds,
        mbs: roundBytes / 1e6 / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
      });
    }
    console.log(
      `round ${r + 1}: ${rows.map((x) => x.rounds.at(-1)?.filesPerS.toFixed(0)).join(" / ")} files/s`,
    );
  }
  const med = (row: Row, k: "filesPerS" | "mbs" | "p50" | "p99") => median(row.rounds.map((x) => x[k]));
  console.log(
    `\n${"benchmark".padEnd(34)}${"files/s".padStart(9)}${"MB/s".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"×RGW".padStart(7)}`,
  );
  const rgw = rows.at(-1) as Row;
  let missed = false;
  for (const row of rows) {
    const ratio = med(row, "filesPerS") / med(rgw, "filesPerS");
    const goal = row === rows[0] ? `   ≥ ${TARGET} × RGW (${ratio >= TARGET ? "met" : "MISSED"})` : "";
    if (row === rows[0]) missed = ratio < TARGET;
    console.log(
      `${row.name.padEnd(34)}${med(row, "filesPerS").toFixed(0).padStart(9)}${med(row, "mbs").toFixed(1).padStart(8)}${med(row, "p50").toFixed(1).padStart(9)}${med(row, "p99").toFixed(1).padStart(9)}${ratio.toFixed(2).padStart(7)}${goal}`,
    );
  }
  for (const row of rows)
    if (row.cpuPerFile)
      console.log(
        `${row.name}: CPU per file ${median(row.cpuPerFile).toFixed(2)} ms (user + system, its all-in-one process)`,
      );
  console.log(
    `peak RSS so far: filestore ${Math.round(rssKiB(store.proc.pid, "VmHWM") / 1024)} MiB (high-water mark)`,
  );
  if (WATCHERS > 0) await watchPhase(store.url, store.proc.pid, files);
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

/** WATCHERS clients each with a WatchFiles stream open and one upload in flight at once. */
async function watchPhase(url: string, pid: number, files: Uint8Array<ArrayBuffer>[]): Promise<void> {
  const users: string[] = [];
  for (let u = 0; u < WATCH_USERS; u++) {
    const username = `watch-${u}-${Date.now().toString(36)}`;
    await account(url, "Signup", { username, password: "bench-password-1" });
    users.push((await account(url, "Signin", { username, password: "bench-password-1" })).tokens.accessToken);
  }
  const rssBefore = rssKiB(pid, "VmRSS");
  const tokenOf = (i: number) => users[i % WATCH_USERS] as string;
  const streams = Array.from({ length: WATCHERS }, (_, i) => watchChanges(url, tokenOf(i)));
  // A stream's answer starts with its first message: give them all time to be set up on the server.
  await Bun.sleep(3000);
  if (streams.some((s) => s.failed())) throw new BenchError("a WatchFiles stream could not be opened");
  const rssOpen = rssKiB(pid, "VmRSS");
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: WATCHERS }, async (_, i) => {
      const res = await fetch(`${url}/upload/v1/files?name=w${i}.bin`, {
        method: "PUT",
        headers: { authorization: `Bearer ${tokenOf(i)}` },
        body: files[i % files.length],
      });
      await res.text();
      return res.status;
    }),
  );
  const uploadSeconds = (performance.now() - t0) / 1000;
  const failed = answers.filter((s) => s !== 201).length;
  // Each upload is an event for every watcher of its user.
  const expected = WATCHERS * Math.ceil(WATCHERS / WATCH_USERS);
  const deadline = Date.now() + 10_000;
  const seen = () => streams.reduce((a, s) => a + s.events(), 0);
  while (seen() < expected && Date.now() < deadline) await Bun.sleep(100);
  const rssPeak = rssKiB(pid, "VmHWM");
  const broken = streams.filter((s) => s.failed()).length;
  for (const s of streams) s.close();
  console.log(
    `\nwatch phase: ${WATCHERS} WatchFiles streams (${WATCH_USERS} users) + ${WATCHERS} uploads at once: ` +
      `${failed} uploads failed, ${broken} streams broke; uploads took ${uploadSeconds.toFixed(1)} s; ` +
      `${seen()} of ${expected} events arrived within 10 s; RSS ${Math.round(rssBefore / 1024)} MiB before, ` +
      `${Math.round(rssOpen / 1024)} MiB with the streams open, high-water mark ${Math.round(rssPeak / 1024)} MiB`,
  );
  if (failed || broken) throw new BenchError("the watch phase saw failures");
}

await runMain(main);
