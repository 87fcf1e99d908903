import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { escapeLabel, formatValue, MetricsRegistry } from "./registry.ts";

/** `promtool check metrics` (Debian's prometheus package): exit code and complaints. */
function promtoolCheck(text: string) {
  const p = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { code: p.status, output: `${p.stdout}${p.stderr}`.trim() };
}

describe("exposition writer", () => {
  test("writes counters, gauges and cumulative histograms that promtool accepts", () => {
    const r = new MetricsRegistry();
    const c = r.counter("filestore_test_requests_total", "Requests\nwith a newline and a \\ in help", [
      "service",
      "route",
    ]);
    c.inc(["gateway", '/a"b\\c\nd'], 2);
    c.child("gateway", "/x").inc();
    r.gauge("filestore_test_depth", "Depth").set([], -3.5);
    const h = r.histogram("filestore_test_duration_seconds", "Durations", ["service"], [0.1, 1]);
    for (const v of [0.05, 0.5, 0.7, 5]) h.observe(["upload"], v);
    const text = r.text();
    expect(text).toContain('filestore_test_requests_total{service="gateway",route="/a\\"b\\\\c\\nd"} 2');
    expect(text).toContain('filestore_test_requests_total{service="gateway",route="/x"} 1');
    expect(text).toContain("filestore_test_depth -3.5");
    expect(text).toContain('filestore_test_duration_seconds_bucket{service="upload",le="0.1"} 1');
    expect(text).toContain('filestore_test_duration_seconds_bucket{service="upload",le="1"} 3');
    expect(text).toContain('filestore_test_duration_seconds_bucket{service="upload",le="+Inf"} 4');
    expect(text).toContain('filestore_test_duration_seconds_sum{service="upload"} 6.25');
    expect(text).toContain('filestore_test_duration_seconds_count{service="upload"} 4');
    expect(text).toContain(
      "# HELP filestore_test_requests_total Requests\\nwith a newline and a \\\\ in help",
    );
    expect(promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });

  test("a family without series writes nothing; an empty registry writes an empty text", () => {
    const r = new MetricsRegistry();
    r.counter("filestore_unused_total", "Never incremented", ["service"]);
    expect(r.text()).toBe("");
  });

  test("asking for a family twice gives the same one; another shape under the same name is refused", () => {
    const r = new MetricsRegistry();
    const a = r.counter("filestore_shared_total", "Shared", ["service"]);
    const b = r.counter("filestore_shared_total", "Shared", ["service"]);
    a.inc(["x"]);
    b.inc(["x"]);
    expect(r.text()).toContain('filestore_shared_total{service="x"} 2');
    expect(() => r.gauge("filestore_shared_total", "Other", ["service"])).toThrow(/different shapes/);
    expect(() => r.counter("bad-name", "x")).toThrow(/bad metric name/);
    expect(() => r.counter("filestore_x_total", "x", ["le"])).toThrow(/bad label name/);
    expect(() => a.inc(["x", "y"])).toThrow(/takes labels service/);
  });

  test("collectors run before each scrape", () => {
    const r = new MetricsRegistry();
    const g = r.gauge("filestore_now", "Read at scrape time");
    let n = 0;
    r.onCollect(() => g.set([], ++n));
    expect(r.text()).toContain("filestore_now 1");
    expect(r.text()).toContain("filestore_now 2");
  });

  test("values and label escapes", () => {
    expect([Infinity, -Infinity, Number.NaN, 1e-7].map(formatValue)).toEqual(["+Inf", "-Inf", "NaN", "1e-7"]);
    expect(escapeLabel("plain")).toBe("plain");
    expect(escapeLabel('a"\\\n')).toBe('a\\"\\\\\\n');
  });
});
