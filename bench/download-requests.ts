// The requests the download benchmark times (bench/download.ts): whole-file GETs by curl (client and
// server pinned to different CPUs when taskset is there) and 1 s of ranged GETs by wrk.
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Turn } from "./download-table.ts";
import { BenchError } from "./harness.ts";

const MiB = 1024 * 1024;

export interface RequestOptions {
  /** Where the wrk scripts are written. */
  tmp: string;
  /** Runs a command, resolving to its output (the harness's run). */
  run: (cmd: string[]) => Promise<string>;
  /** The file's size: whole downloads must bring exactly this many bytes; ranges fall inside it. */
  size: number;
  /** wrk's connections. */
  connections: number;
}

export function downloadRequests({ tmp, run, size, connections }: RequestOptions) {
  const SIZE = size;
  const CONNECTIONS = connections;
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
  async function wholeFile(url: string, headers: string[], pid: number, size = SIZE): Promise<Turn> {
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
    if (bytes !== size) throw new BenchError(`${url} sent ${bytes} bytes, not ${size}`);
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

  /** How whole-file rows are run, for the report's header. */
  const placement = PIN ? `curl on CPU 0, the server on CPU ${CPUS - 1}` : "CPUs left to the scheduler";
  return { wrkScript, apart, wholeFile, ranges, placement };
}

/** Streams a URL's body into SHA-256 (a correctness check before timing). */
export async function sha256Of(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(url, { headers });
  if (!res.ok || !res.body) throw new BenchError(`${url} answered ${res.status}`);
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hasher.update(chunk);
  return hasher.digest("hex");
}
