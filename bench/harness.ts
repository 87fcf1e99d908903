// What every benchmark needs: child processes that start, get waited for and always get stopped, a
// scratch directory, account calls to get a token, and a main() runner that cleans up on any exit.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class BenchError extends Error {}

export const root = join(import.meta.dir, "..");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The port a benchmark server binds: "0" (the kernel picks a free one) unless BENCH_PORT_RANGE
 * ("45000-45999") names a range, as on a machine shared by several runs that each keep to their own ports.
 * Handed out in turn, never twice in one run.
 */
let nextPort = 0;
export function benchPort(): string {
  const range = process.env.BENCH_PORT_RANGE;
  if (!range) return "0";
  const m = /^(\d+)-(\d+)$/.exec(range);
  if (!m) throw new BenchError(`BENCH_PORT_RANGE must look like 45000-45999, not ${range}`);
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  const port = lo + nextPort++;
  if (port > hi) throw new BenchError(`BENCH_PORT_RANGE ${range} has no port left`);
  return String(port);
}

export function createHarness(prefix: string) {
  const tmp = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const children: Bun.Subprocess[] = [];

  /** Starts a child and waits until its stdout matches `ready` (group 1: its URL). */
  async function start(name: string, cmd: string[], env: Record<string, string>, ready: RegExp) {
    const out = join(tmp, `${name}.out`);
    const err = join(tmp, `${name}.err`);
    const [o, e] = [openSync(out, "w"), openSync(err, "w")];
    const proc = Bun.spawn(cmd, { cwd: root, env: { ...process.env, ...env }, stdout: o, stderr: e });
    closeSync(o);
    closeSync(e);
    children.push(proc);
    // BENCH_START_SECONDS (default 90): on a loaded machine an all-in-one has taken more than 30 s to start.
    const deadline = Date.now() + Number(process.env.BENCH_START_SECONDS || 90) * 1000;
    while (Date.now() < deadline) {
      const m = ready.exec(readFileSync(out, "utf8"));
      if (m?.[1]) return { proc, url: m[1].replace(/\/$/, ""), logs: [out, err] };
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      await sleep(50);
    }
    const tail = (f: string) => readFileSync(f, "utf8").split("\n").slice(-20).join("\n");
    throw new BenchError(`${name} did not start:\n${tail(out)}\n${tail(err)}`);
  }

  async function stopAll(): Promise<void> {
    const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of alive) c.kill("SIGTERM");
    await Promise.race([Promise.all(alive.map((c) => c.exited)), sleep(5_000)]);
    for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    rmSync(tmp, { recursive: true, force: true });
  }

  /** Runs main(), stopping every child on any exit (Ctrl-C too), and exits with its code. */
  async function runMain(main: () => Promise<number>): Promise<never> {
    let interrupted = false;
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.on(sig, () => {
        interrupted = true;
        void stopAll().then(() => process.exit(130));
      });
    }
    let code = 1;
    try {
      code = await main();
    } catch (err) {
      if (!interrupted) console.error(err instanceof BenchError ? `bench: ${err.message}` : err);
    } finally {
      await stopAll();
    }
    process.exit(code);
  }

  /** Runs a command to completion; returns stdout, throws with stderr on failure. */
  async function run(cmd: string[]): Promise<string> {
    const proc = Bun.spawn(cmd, { cwd: root, stdout: "pipe", stderr: "pipe" });
    children.push(proc);
    const [out, err] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    const code = await proc.exited;
    children.splice(children.indexOf(proc), 1);
    if (code !== 0) throw new BenchError(`${cmd[0]} ${cmd[1] ?? ""} exited ${code}:\n${err}${out}`);
    return out;
  }

  /** A local OTLP/HTTP endpoint (bench/otlp-sink.ts) that takes every export and discards it. */
  const startOtlpSink = () =>
    start("otlp-sink", [process.execPath, "bench/otlp-sink.ts"], { PORT: benchPort() }, /on (http:\S+)/);

  /**
   * The all-in-one filestore (workers/main.ts) on kernel-picked ports, its data under tmp/data. With
   * BENCH_TRACING=1 its spans go over OTLP/HTTP to a local sink (metrics are always on): run a benchmark
   * with and without it to see what tracing costs there. A second one needs its own `name` (its data
   * under tmp/data-<name>); `env` adds settings; `main` runs another checkout's workers/main.ts (a
   * comparison with the code before a change).
   */
  const startFilestore = async (
    extra: { name?: string; env?: Record<string, string>; main?: string } = {},
  ) => {
    const tracing: Record<string, string> =
      process.env.BENCH_TRACING === "1" ? { OTEL_EXPORTER_OTLP_ENDPOINT: (await startOtlpSink()).url } : {};
    const name = extra.name ?? "filestore";
    return start(
      name,
      // BENCH_CPU_PROF=DIR: Bun writes the process' CPU profile (.cpuprofile and .md) there when it stops.
      [process.execPath, ...cpuProfArgs(), extra.main ?? "workers/main.ts"],
      {
        DATA_DIR: join(tmp, name === "filestore" ? "data" : `data-${name}`),
        HOST: "127.0.0.1",
        PORT: benchPort(),
        GRPC_PORT: benchPort(),
        SHUTDOWN_GRACE_MS: "1000",
        // Rounds re-upload the same GiB as one user: a quota that every run fits in (checked all the same).
        DEFAULT_QUOTA_BYTES: String(2 ** 40),
        ...tracing,
        ...extra.env,
      },
      /web \+ HTTP API\s+(http:\/\/\S+)/,
    );
  };

  const cpuProfArgs = () => {
    const dir = process.env.BENCH_CPU_PROF;
    return dir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${dir}`] : [];
  };

  /** children: every process started here, stopped by stopAll (add others, e.g. load generators). */
  return { tmp, children, start, startOtlpSink, startFilestore, run, stopAll, runMain };
}

/** An AccountService call (Connect JSON) on the gateway. */
export async function account(base: string, method: string, body: unknown, token?: string) {
  const res = await fetch(`${base}/filestore.account.v1.AccountService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new BenchError(`${method} failed: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Signs a fresh user up and in; returns the access token. */
export async function benchUserToken(base: string): Promise<string> {
  const username = `bench-${Date.now().toString(36)}`;
  const password = "bench-password-1";
  await account(base, "Signup", { username, password });
  const token: string = (await account(base, "Signin", { username, password })).tokens?.accessToken;
  if (!token) throw new BenchError("Signin returned no tokens.accessToken");
  return token;
}

const MiB = 1024 * 1024;

/** `size` bytes (whole MiB) from one random MiB, each block stamped with its index so no two are alike. */
export async function makePayload(path: string, size: number): Promise<string> {
  const block = crypto.getRandomValues(new Uint8Array(MiB));
  const hasher = new Bun.CryptoHasher("sha256");
  const writer = Bun.file(path).writer({ highWaterMark: 4 * MiB });
  for (let i = 0; i < size / MiB; i++) {
    new DataView(block.buffer).setUint32(0, i);
    hasher.update(block);
    const pending = writer.write(block);
    if (pending instanceof Promise) await pending;
  }
  await writer.end();
  if (statSync(path).size !== size) throw new BenchError("the payload file has the wrong size");
  return hasher.digest("hex");
}

/** A process's resident set (VmRSS) or its high-water mark (VmHWM), in KiB. */
export const rssKiB = (pid: number, field: "VmRSS" | "VmHWM") => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
};

/**
 * Measures the share of CPU time the hypervisor took from this machine (steal, /proc/stat) from now until
 * the returned function is called: on a shared host, a run with much of it measured the neighbours too.
 */
export function stealMeter(): () => string {
  const read = () => {
    const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return () => {
    const end = read();
    const total = end.total - start.total;
    return total > 0 ? `${((100 * (end.steal - start.steal)) / total).toFixed(1)}%` : "n/a";
  };
}

/** CPU time (user + system) a process has used, in ms (Linux clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The median; of an even count, the mean of the two middle values (not the upper one: no bias upwards). */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return (s.length % 2 === 1 ? s[mid] : ((s[mid - 1] as number) + (s[mid] as number)) / 2) as number;
};
