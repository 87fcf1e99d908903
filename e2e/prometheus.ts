// A real Prometheus for end-to-end tests (Debian's prometheus package, installed by .ci/run): a generated
// static configuration scraping the given targets every second, its own data directory, a port of
// 23000-23999 (the range the test processes may use), and its HTTP API to ask what it scraped.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { portRange } from "./harness.ts";

export interface ScrapeTarget {
  /** The job name ("gateway", "upload", …). */
  job: string;
  /** host:port */
  address: string;
}

export interface Prometheus {
  url: string;
  /** An instant query's result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The label sets of every series whose name matches `match` (a series selector). */
  series(match: string): Promise<Array<Record<string, string>>>;
  stop(): Promise<void>;
}

/** Whether `port` on 127.0.0.1 can be bound now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A free port in E2E_PORT_RANGE when it is set (as the harness's ports), else in 23000-23999. */
export async function freePortInRange(): Promise<number> {
  const [from, to] = portRange() ?? [23000, 23999];
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/** The scrape configuration: one job per service, every target with the bearer token when one is given. */
export function scrapeConfig(targets: ScrapeTarget[], token?: string): string {
  const jobs = [...new Set(targets.map((t) => t.job))].map((job) => ({
    job_name: job,
    scrape_interval: "1s",
    scrape_timeout: "900ms",
    metrics_path: "/metrics",
    ...(token ? { authorization: { type: "Bearer", credentials: token } } : {}),
    static_configs: [{ targets: targets.filter((t) => t.job === job).map((t) => t.address) }],
  }));
  // JSON is YAML: no YAML library needed.
  return JSON.stringify({
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    scrape_configs: jobs,
  });
}

export async function startPrometheus(targets: ScrapeTarget[], token?: string): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "filestore-prometheus-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, scrapeConfig(targets, token));
  const port = await freePortInRange();
  const proc = Bun.spawn(
    [
      "prometheus",
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const url = `http://127.0.0.1:${port}`;
  const api = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  const until = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > until || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`prometheus did not start: ${await new Response(proc.stderr).text()}`);
    }
    await Bun.sleep(100);
  }
  return {
    url,
    async query(promql) {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as { result: never };
      return data.result;
    },
    async series(match) {
      return (await api(`/api/v1/series?match[]=${encodeURIComponent(match)}`)) as Array<
        Record<string, string>
      >;
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
