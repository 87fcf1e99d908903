// Storage gauges from an injected provider: read in the background at most once per period (never per
// scrape), absent until the first reading, and the dedup ratio computed from it.
import { describe, expect, test } from "bun:test";
import { cachedReader } from "./cached.ts";
import { createMetrics } from "./registry.ts";
import { availableBytesGauge, storageMetrics } from "./storage.ts";
import { transferQueueGauge } from "./transfer.ts";

describe("storage gauges", () => {
  test("one provider call per period however often scraped; the ratio of logical to stored bytes", async () => {
    const m = createMetrics("file");
    let calls = 0;
    const s = storageMetrics(
      m,
      async () => {
        calls++;
        return {
          backends: [
            { backend: "local", blobs: 3, storedBytes: 1000 },
            { backend: "s3", blobs: 1, storedBytes: 250 },
          ],
          logicalBytes: 2500,
        };
      },
      { maxAgeSeconds: 3600 },
    );
    await s.settled();
    for (let i = 0; i < 20; i++) await m.text();
    expect(calls).toBe(1);
    const text = await m.text();
    expect(text).toContain('filestore_storage_blobs{service="file",backend="local"} 3');
    expect(text).toContain('filestore_storage_stored_bytes{service="file",backend="local"} 1000');
    expect(text).toContain('filestore_storage_stored_bytes{service="file",backend="s3"} 250');
    expect(text).toContain('filestore_storage_logical_bytes{service="file"} 2500');
    expect(text).toContain('filestore_storage_dedup_ratio{service="file"} 2');
  });

  test("a provider that fails: no series, the error reported, no retry before the next period", async () => {
    const m = createMetrics("file");
    const errors: unknown[] = [];
    let calls = 0;
    const s = storageMetrics(
      m,
      async () => {
        calls++;
        throw new Error("meta is away");
      },
      { maxAgeSeconds: 3600, onError: (e) => errors.push(e) },
    );
    await s.settled();
    await m.text();
    expect(await m.text()).not.toMatch(/^filestore_storage_blobs\{/m);
    expect([calls, errors.length]).toEqual([1, 1]);
  });

  test("the cached reader reads again once its period is over", async () => {
    let now = 0;
    let n = 0;
    const r = cachedReader(
      async () => ++n,
      1000,
      undefined,
      () => now,
    );
    expect(r.get()).toBeUndefined();
    await r.settled();
    expect(r.get()).toBe(1);
    now = 999;
    expect(r.get()).toBe(1);
    now = 1000;
    r.get();
    await r.settled();
    expect(r.get()).toBe(2);
  });

  test("cached gauges: free space and the transfer queue by state", async () => {
    const m = createMetrics("upload");
    availableBytesGauge(m, "local", async () => 12345, 3600);
    transferQueueGauge(m, async () => ({ queued: 4, running: 1, failed: 2 }), 3600);
    await Bun.sleep(10);
    const text = await m.text();
    expect(text).toContain('filestore_storage_available_bytes{service="upload",backend="local"} 12345');
    expect(text).toContain('filestore_transfer_queue_jobs{service="upload",state="queued"} 4');
    expect(text).toContain('filestore_transfer_queue_jobs{service="upload",state="failed"} 2');
  });
});
