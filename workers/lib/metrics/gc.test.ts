import { describe, expect, test } from "bun:test";
import { counted, gcMetrics } from "./gc.ts";
import { createMetrics } from "./registry.ts";

describe("sweeps counted as passes", () => {
  test("a pass that ends counts as a run, one that throws as a run and a failure, and still throws", async () => {
    const m = createMetrics("upload");
    const g = gcMetrics(m);
    expect(await counted(g, "upload_sessions", async () => 7)()).toBe(7);
    await expect(
      counted(g, "upload_sessions", () => Promise.reject(new Error("meta away")))(),
    ).rejects.toThrow("meta away");
    const text = await m.text();
    expect(text).toContain('filestore_gc_runs_total{service="upload",task="upload_sessions"} 2');
    expect(text).toContain('filestore_gc_failures_total{service="upload",task="upload_sessions"} 1');
  });

  test("without metrics the work runs as it is", async () => {
    const work = async () => 1;
    expect(counted(undefined, "x", work)).toBe(work);
  });
});
