// The operator's monitoring files (deploy/monitoring/) against the code: every metric an alert rule or a
// dashboard panel reads is one the code registers; promtool accepts the rules and their unit tests, and
// the compose scrape configuration names the services and ports compose.yaml runs.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MetricsRegistry } from "../core/metrics/registry.ts";
import { runtimeMetrics } from "../core/metrics/runtime.ts";
import { authMetrics } from "../workers/lib/metrics/auth.ts";
import { downloadMetrics } from "../workers/lib/metrics/download.ts";
import { gcMetrics } from "../workers/lib/metrics/gc.ts";
import { connectionsGauge } from "../workers/lib/metrics/process.ts";
import { createProcessMetrics } from "../workers/lib/metrics/registry.ts";
import { rpcMetricsInterceptor } from "../workers/lib/metrics/rpc.ts";
import { shareMetrics } from "../workers/lib/metrics/shares.ts";
import { availableBytesGauge, storageMetrics } from "../workers/lib/metrics/storage.ts";
import { transferMetrics, transferQueueGauge } from "../workers/lib/metrics/transfer.ts";
import { uploadMetrics } from "../workers/lib/metrics/upload.ts";

const DIR = join(import.meta.dir, "monitoring");
const read = (name: string) => readFileSync(join(DIR, name), "utf8");

/** Every metric name the code registers: each factory of workers/lib/metrics and core/metrics, called once. */
function exportedNames(): Set<string> {
  const m = createProcessMetrics("catalog");
  rpcMetricsInterceptor(m);
  uploadMetrics(m);
  downloadMetrics(m);
  shareMetrics(m);
  transferMetrics(m);
  transferQueueGauge(m, async () => ({ queued: 0, running: 0, failed: 0 }), 3600);
  gcMetrics(m);
  authMetrics(m);
  storageMetrics(m, async () => ({ backends: [], logicalBytes: 0 }), { maxAgeSeconds: 3600 });
  availableBytesGauge(m, "local", async () => 0, 3600);
  connectionsGauge(m, () => 0);
  const gateway = new MetricsRegistry();
  runtimeMetrics(gateway, "gateway")();
  return new Set([...m.names(), ...gateway.names(), "up"]);
}

const HISTOGRAM_SUFFIX = /_(bucket|count|sum)$/;

/** Metric names in a PromQL expression: quoted strings and label matchers removed, then our prefixes. */
export function metricNamesIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, "");
  return [...bare.matchAll(/\b(filestore_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b/g)].map(
    (x) => x[1] as string,
  );
}

function unknownNames(exprs: string[], exported: Set<string>): string[] {
  const missing = new Set<string>();
  for (const e of exprs)
    for (const n of metricNamesIn(e))
      if (!exported.has(n) && !exported.has(n.replace(HISTOGRAM_SUFFIX, ""))) missing.add(n);
  return [...missing];
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

const exported = exportedNames();
const rules = Bun.YAML.parse(read("alerts.yml")) as {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
};
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
const dashboard = JSON.parse(read("grafana-dashboard.json")) as {
  panels: Panel[];
  templating: { list: Array<{ query: unknown }> };
};
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe("alert rules and dashboard read what the code exports", () => {
  test("the name extraction finds names and ignores label values", () => {
    expect(
      metricNamesIn(
        'sum(rate(filestore_x_total{job=~"filestore_fake.*"}[5m])) / up{a="process_no"} > filestore_y',
      ),
    ).toEqual(["filestore_x_total", "up", "filestore_y"]);
    expect(unknownNames(["rate(filestore_rpc_server_duration_seconds_bucket[5m])"], exported)).toEqual([]);
    expect(unknownNames(["filestore_made_up_total"], exported)).toEqual(["filestore_made_up_total"]);
  });

  test("every alert rule's metric is exported", () => {
    expect(ruleExprs.length).toBeGreaterThanOrEqual(8);
    expect(unknownNames(ruleExprs, exported)).toEqual([]);
  });

  test("every dashboard expression's metric is exported, and the dashboard covers each area", () => {
    const templates = dashboard.templating.list.map((t) => JSON.stringify(t.query));
    expect(unknownNames([...panelExprs, ...templates], exported)).toEqual([]);
    const used = new Set(panelExprs.flatMap(metricNamesIn));
    for (const name of [
      "filestore_rpc_server_duration_seconds_count",
      "filestore_http_server_request_bytes_total",
      "filestore_upload_sessions_total",
      "filestore_transfer_queue_jobs",
      "filestore_storage_stored_bytes",
      "filestore_gc_failures_total",
      "filestore_auth_signins_total",
      "filestore_share_opens_total",
    ])
      expect([name, used.has(name)]).toEqual([name, true]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((p) => p.type !== "row"))
      expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
  });
});

describe("promtool", () => {
  const promtool = (...args: string[]) => {
    const p = spawnSync("promtool", args, { cwd: DIR, encoding: "utf8" });
    return { code: p.status, output: `${p.stdout}${p.stderr}` };
  };

  test("check rules", () => {
    const r = promtool("check", "rules", "alerts.yml");
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  test("test rules: the unit tests of the alerts pass", () => {
    const r = promtool("test", "rules", "alerts.test.yml");
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  test("check config: the compose scrape configuration", () => {
    const r = promtool("check", "config", "prometheus.yml");
    expect(r.code).toBe(0);
  });
});

test("the compose scrape configuration names compose's services on their ports", () => {
  const compose = Bun.YAML.parse(readFileSync(join(import.meta.dir, "..", "compose.yaml"), "utf8")) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  const config = Bun.YAML.parse(read("prometheus.yml")) as {
    scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; port: number }> }>;
  };
  const scraped = Object.fromEntries(
    config.scrape_configs.flatMap((j) => j.dns_sd_configs.flatMap((d) => d.names.map((n) => [n, d.port]))),
  );
  const expected: Record<string, number> = {};
  for (const [name, s] of Object.entries(compose.services)) {
    const env = s.environment ?? {};
    if (name === "gateway") expected[name] = Number(env.METRICS_PORT);
    else if (env.PORT) expected[name] = Number(env.PORT);
  }
  expect(scraped).toEqual(expected);
});
