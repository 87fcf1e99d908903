// `npm run bench`: an authenticated unary call (AccountService/GetUserInfo) through the gateway of the
// all-in-one filestore, next to a bare Hono hello-world on the same runtime, measured in the same run with
// wrk (64 connections, HTTP/1.1). Prints req/s, p50/p99 and the ratio to the baseline; and the same call on
// a second filestore with metrics and tracing on (metrics are always on; tracing: every call a span,
// exported over OTLP/HTTP to a local sink), with its own target and its ratio to the untraced one: what
// tracing costs when it is on (off, nothing is installed).
//
// Env: BENCH_SECONDS (default 10) per measurement, BENCH_ROUNDS (default 3) alternating rounds;
// BENCH_ENFORCE=1 exits 1 when a ratio misses its target; BENCH_TRACING=0 skips the traced row;
// BENCH_SAMPLED=1 adds a row traced with OTEL_TRACES_SAMPLER=parentbased_traceidratio at 10 % (an
// operator's choice for a busy instance; the default samples every trace).
// The load generator, the baseline and the system under test each run in their own process: a JavaScript
// client saturates far below these rates, and sharing an event loop would measure the harness instead.
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { account, BenchError, benchPort, createHarness } from "./harness.ts";

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
if (!Number.isInteger(SECONDS) || SECONDS < 1) throw new Error("BENCH_SECONDS must be a whole number >= 1");
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("BENCH_ROUNDS must be a whole number >= 1");
const WARMUP_SECONDS = 2; // lets the JIT settle and wrk open its connections before we count
const CONNECTIONS = 64;
const THREADS = 2;
const TARGET = 0.3;
/** With metrics and tracing on (issue 20). */
const TRACED_TARGET = 0.38;
const TRACING = process.env.BENCH_TRACING !== "0";
const SAMPLED = process.env.BENCH_SAMPLED === "1";

const { tmp, children, start, startOtlpSink, runMain } = createHarness("filestore-bench");

function ensureWrk(): void {
  if (Bun.which("wrk")) return;
  if (process.getuid?.() !== 0) {
    throw new BenchError("wrk is not installed and we are not root: run `sudo apt-get install -y wrk` first");
  }
  console.log("wrk not found; installing it with apt-get ...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // The package lists may be missing on a fresh machine: update only when the plain install fails.
  const sh =
    "apt-get install -y -q wrk >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q wrk)";
  const r = Bun.spawnSync(["sh", "-c", sh], { env, stdout: "inherit", stderr: "inherit" });
  if (!r.success || !Bun.which("wrk")) throw new BenchError("could not install wrk with apt-get");
}

/** A Connect unary JSON call through the gateway (setup only, not measured). */

interface WrkResult {
  rps: number;
  p50: number; // ms
  p99: number; // ms
  requests: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

const unitMs: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function parseWrk(raw: string): WrkResult {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m").exec(raw);
    return m ? Number(m[1]) * (unitMs[m[2] as string] ?? Number.NaN) : Number.NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? Number.NaN),
    p50: pct("50"),
    p99: pct("99"),
    requests: Number(/(\d+) requests in/.exec(raw)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(raw)?.[1] ?? 0),
    socketErrors: sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
    raw,
  };
}

async function wrk(url: string, seconds: number, script?: string): Promise<WrkResult> {
  const args = ["wrk", `-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency"];
  const proc = Bun.spawn([...args, ...(script ? ["-s", script] : []), url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(proc);
  const [raw, errText] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text()];
  if ((await proc.exited) !== 0) throw new BenchError(`wrk failed:\n${raw}${errText}`);
  return parseWrk(raw);
}

async function measure(url: string, script?: string): Promise<WrkResult> {
  await wrk(url, WARMUP_SECONDS, script);
  return wrk(url, SECONDS, script);
}

/** The round with the median throughput (its latencies come with it; of an even count, the lower one). */
function median(results: WrkResult[]): WrkResult {
  return [...results].sort((a, b) => a.rps - b.rps)[Math.floor((results.length - 1) / 2)] as WrkResult;
}

/** Peak resident set of a process so far (the kernel tracks the high-water mark for us). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** A signed-in user's access token, after one checked call: the benchmark must exercise the real path. */
async function signedIn(url: string): Promise<string> {
  const health = await fetch(`${url}/healthz`);
  if (!health.ok) throw new BenchError(`gateway /healthz answered ${health.status}`);
  const username = `bench-${Date.now().toString(36)}`;
  const password = "bench-password-1";
  await account(url, "Signup", { username, password });
  const { tokens } = await account(url, "Signin", { username, password });
  const token: string = tokens?.accessToken;
  if (!token) throw new BenchError("Signin returned no tokens.accessToken");
  const info = await account(url, "GetUserInfo", {}, token);
  if (info.user?.username !== username) throw new BenchError(`GetUserInfo returned ${JSON.stringify(info)}`);
  return token;
}

/** Another all-in-one filestore with tracing on, exporting to a sink that discards the spans. */
async function startTraced(name: string, sink: { url: string }, env: Record<string, string> = {}) {
  return start(
    name,
    [process.execPath, "workers/main.ts"],
    {
      ...env,
      DATA_DIR: join(tmp, `data-${name}`),
      HOST: "127.0.0.1",
      PORT: benchPort(),
      GRPC_PORT: benchPort(),
      SHUTDOWN_GRACE_MS: "1000",
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    },
    /web \+ HTTP API\s+(http:\/\/\S+)/,
  );
}

async function main(): Promise<number> {
  ensureWrk();
  const hono = await start(
    "hono-hello",
    [process.execPath, "bench/hono-hello.ts"],
    { PORT: benchPort() },
    /listening on (http:\/\/\S+?)\/?$/m,
  );
  const store = await start(
    "filestore",
    [process.execPath, "workers/main.ts"],
    // Port 0: the kernel picks free ports; main.ts prints the URLs it got.
    {
      DATA_DIR: join(tmp, "data"),
      HOST: "127.0.0.1",
      PORT: benchPort(),
      GRPC_PORT: benchPort(),
      SHUTDOWN_GRACE_MS: "1000",
    },
    /web \+ HTTP API\s+(http:\/\/\S+)/,
  );
  // The traced rows: one sink for them all (a collector elsewhere costs the process only the send).
  const sink = TRACING || SAMPLED ? await startOtlpSink() : undefined;
  const tracedRows: { name: string; env: Record<string, string> }[] = [
    ...(TRACING && sink ? [{ name: "metrics + tracing on (aio)", env: {} }] : []),
    ...(SAMPLED && sink
      ? [
          {
            name: "metrics + tracing 10 % (aio)",
            env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" },
          },
        ]
      : []),
  ];
  const traced = [];
  for (const [i, r] of tracedRows.entries()) {
    const proc = await startTraced(`filestore-traced-${i}`, sink as { url: string }, r.env);
    traced.push({ ...r, url: proc.url, token: await signedIn(proc.url), results: [] as WrkResult[] });
  }
  const token = await signedIn(store.url);

  const scriptFor = (name: string, bearer: string) => {
    const path = join(tmp, `${name}.lua`);
    writeFileSync(
      path,
      [
        'wrk.method = "POST"',
        'wrk.body = "{}"',
        'wrk.headers["Content-Type"] = "application/json"',
        `wrk.headers["Authorization"] = "Bearer ${bearer}"`,
        "",
      ].join("\n"),
    );
    return path;
  };
  const script = scriptFor("getuserinfo", token);
  const tracedScripts = traced.map((t, i) => scriptFor(`getuserinfo-traced-${i}`, t.token));

  console.log(
    `wrk: ${THREADS} threads, ${CONNECTIONS} connections, HTTP/1.1, ${SECONDS}s (+${WARMUP_SECONDS}s warm-up) each, ` +
      `${ROUNDS} alternating rounds, medians; load average ${loadavg()[0]?.toFixed(1)} at the start`,
  );
  // Alternate baseline and target over several rounds and keep the median round of each: on two shared
  // cores one run swings by ±10 %, and alternating keeps slow phases of the machine from favouring one side.
  const bases: WrkResult[] = [];
  const rpcs: WrkResult[] = [];
  const GET_USER_INFO = "filestore.account.v1.AccountService/GetUserInfo";
  for (let round = 0; round < ROUNDS; round++) {
    bases.push(await measure(`${hono.url}/`));
    rpcs.push(await measure(`${store.url}/${GET_USER_INFO}`, script));
    for (const [i, t] of traced.entries())
      t.results.push(await measure(`${t.url}/${GET_USER_INFO}`, tracedScripts[i]));
  }
  const base = median(bases);
  const rpc = median(rpcs);
  const rss = peakRssMiB(store.proc.pid);
  const failed = [...rpcs, ...traced.flatMap((t) => t.results)].find(
    (r) => r.non2xx > 0 || r.socketErrors > 0 || r.requests === 0,
  );

  if (failed) {
    console.error(
      `\n!!! GetUserInfo benchmark had ${failed.non2xx} non-2xx responses and ${failed.socketErrors} socket errors`,
    );
    console.error("!!! a benchmark of errors is worthless; wrk said:\n");
    console.error(failed.raw);
    return 1;
  }
  if (base.non2xx > 0 || base.socketErrors > 0)
    console.warn("warning: the Hono baseline had errors:\n", base.raw);

  const ratio = rpc.rps / base.rps;
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)}ms`.padStart(9);
  const row = (name: string, r: WrkResult, ratioText: string, note = "") =>
    `${name.padEnd(32)}${Math.round(r.rps).toString().padStart(9)}${ms(r.p50)}${ms(r.p99)}${ratioText.padStart(8)}${note}`;
  const verdict = (r: number, target: number) =>
    `   target >= ${target.toFixed(2)} (${r >= target ? "met" : "MISSED"})`;
  console.log();
  console.log(
    `${"benchmark".padEnd(32)}${"req/s".padStart(9)}${"p50".padStart(9)}${"p99".padStart(9)}${"ratio".padStart(8)}`,
  );
  console.log(row("hono hello (baseline, Bun)", base, "1.00"));
  console.log(row("GetUserInfo via gateway (aio)", rpc, ratio.toFixed(2), verdict(ratio, TARGET)));
  let missed = ratio < TARGET;
  for (const t of traced) {
    const on = median(t.results);
    const r = on.rps / base.rps;
    // Only the default (every trace sampled) is held to the target: sampling is the operator's choice.
    const full = t === traced[0] && TRACING;
    if (full) missed ||= r < TRACED_TARGET;
    const note = `${full ? verdict(r, TRACED_TARGET) : ""}   / untraced ${(on.rps / rpc.rps).toFixed(2)}`;
    console.log(row(t.name, on, r.toFixed(2), note));
  }
  console.log(`peak RSS filestore: ${Math.round(rss)} MiB`);
  return process.env.BENCH_ENFORCE === "1" && missed ? 1 : 0;
}

await runMain(main);
