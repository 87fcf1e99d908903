// The transfer worker's metrics through its real consumer loop: an attempt counted by outcome and timed,
// the bytes moved, nothing left in flight, and TransferCounters' events as Prometheus counters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { createMetrics } from "../lib/metrics/registry.ts";
import { transferMetrics } from "../lib/metrics/transfer.ts";
import { openSqliteQueue } from "../lib/queue/sqlite.ts";
import { TransferCounters } from "./counters.ts";
import { openTransferFixture, type TransferFixture } from "./testing.ts";
import { relay, startTransferWorker } from "./transfer.ts";

const s3 = testBlobStores().find((b) => b.backend === "s3");

describe.if(s3 !== undefined)("transfer metrics", () => {
  let f: TransferFixture;
  const metrics = createMetrics("transfer");
  beforeAll(async () => {
    f = await openTransferFixture(s3 as NonNullable<typeof s3>, async (dir) => ({
      queue: openSqliteQueue(`${dir}/queue.db`, "transfer", {
        visibilityMs: 60_000,
        retryForMs: 60_000,
        backoffBaseMs: 20,
        backoffMaxMs: 50,
      }),
    }));
    const m = transferMetrics(metrics);
    f.deps = { ...f.deps, metrics: m, counters: new TransferCounters(m.counted) };
  });
  afterAll(() => f?.close());

  test("a moved job: one attempt 'moved', its bytes, its duration, none in flight", async () => {
    const { sha256 } = await f.upload(200_000);
    await relay(f.deps);
    const worker = startTransferWorker(f.deps, { consumer: "m", concurrency: 1, pollMs: 100, graceMs: 5000 });
    try {
      for (let i = 0; i < 600 && (await f.jobOf(sha256))?.state !== "done"; i++) await Bun.sleep(50);
    } finally {
      await worker.stop();
    }
    expect((await f.jobOf(sha256))?.state).toBe("done");
    const text = await metrics.text();
    expect(text).toContain('filestore_transfer_attempts_total{service="transfer",outcome="moved"} 1');
    expect(text).toContain('filestore_transfer_moved_bytes_total{service="transfer"} 200000');
    expect(text).toContain(
      'filestore_transfer_job_duration_seconds_count{service="transfer",outcome="moved"} 1',
    );
    expect(text).toContain('filestore_transfer_in_flight{service="transfer"} 0');
    expect(text).not.toContain(sha256);
  }, 60_000);
});
