// bench:metadata's background passes: garbage collection through the all-in-one's internal
// FileAdminService (the call the file worker's timer makes), and the usage recount through meta's data
// layer (QuotaService.RecountUsage's function, one user a call, so each call is one user's transaction).
// While the GC runs: the filestore's RSS is sampled, and a probe writer on a connection of its own updates
// one row every few ms — the longest it waited is the longest any GC batch kept a writer out (on SQLite,
// the database's one write lock; on MariaDB, a table or metadata lock would show there too).
import type { Db } from "../workers/meta/db/database.ts";
import { recountUsage } from "../workers/meta/quota.ts";
import { BenchError, rssKiB, sleep } from "./harness.ts";

export const INTERNAL_SECRET_HEADER = "x-filestore-internal";

export interface GcFigures {
  deleted: number;
  failed: number;
  passes: number;
  seconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** The probe writer's longest wait (ms), and how many writes it made. */
  longestWaitMs: number;
  probes: number;
}

/** Runs GC passes until one deletes nothing; probeDb and probeUserId: the probe writer's connection and row. */
export async function gcPasses(
  grpcUrl: string,
  secret: string,
  pid: number,
  probeDb: Db,
  probeUserId: string,
): Promise<GcFigures> {
  const rssBefore = rssKiB(pid, "VmRSS");
  let rssPeak = rssBefore;
  let running = true;
  const sampler = (async () => {
    while (running) {
      rssPeak = Math.max(rssPeak, rssKiB(pid, "VmRSS"));
      await sleep(50);
    }
  })();
  let longestWaitMs = 0;
  let probes = 0;
  const probe = (async () => {
    while (running) {
      const s = performance.now();
      await probeDb
        .updateTable("users")
        .set({ last_active_at: Date.now() })
        .where("id", "=", probeUserId)
        .execute();
      longestWaitMs = Math.max(longestWaitMs, performance.now() - s);
      probes++;
      await sleep(5);
    }
  })();
  const t0 = performance.now();
  const total = { deleted: 0, failed: 0, passes: 0 };
  try {
    for (;;) {
      const res = await fetch(`${grpcUrl}/filestore.file.v1.FileAdminService/RunGarbageCollection`, {
        method: "POST",
        headers: { "content-type": "application/json", [INTERNAL_SECRET_HEADER]: secret },
        body: "{}",
      });
      const text = await res.text();
      if (res.status !== 200) throw new BenchError(`RunGarbageCollection answered ${res.status}: ${text}`);
      const r = JSON.parse(text) as { deleted?: number; failed?: number };
      total.passes++;
      total.deleted += r.deleted ?? 0;
      total.failed += r.failed ?? 0;
      if (!r.deleted) break;
    }
  } finally {
    running = false;
    await Promise.all([sampler, probe]);
  }
  return {
    ...total,
    seconds: (performance.now() - t0) / 1000,
    rssBeforeMiB: rssBefore / 1024,
    rssPeakMiB: rssPeak / 1024,
    longestWaitMs,
    probes,
  };
}

/** Recounts every user's usage, one user per call; total time, the longest call, and the drifts fixed. */
export async function recountAll(
  db: Db,
): Promise<{ users: number; seconds: number; longestMs: number; drifts: number }> {
  const t0 = performance.now();
  let after = "";
  let [users, longestMs, drifts] = [0, 0, 0];
  for (;;) {
    const s = performance.now();
    const page = await recountUsage(db, Date.now(), { afterUserId: after, limit: 1 });
    longestMs = Math.max(longestMs, performance.now() - s);
    users += page.checked;
    drifts += page.drifts.length;
    if (page.checked === 0) break;
    after = page.lastUserId;
  }
  return { users, seconds: (performance.now() - t0) / 1000, longestMs, drifts };
}
