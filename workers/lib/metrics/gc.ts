// Garbage collection and the file worker's other sweeps: runs and failures by task, blobs and bytes freed.
import { counter, type Metrics } from "./registry.ts";

export interface GcMetrics {
  /** A pass of `task` ended (ok or failed). */
  run(task: string, ok: boolean): void;
  freed(blobs: number, bytes: number): void;
}

/** `work` counted as a pass of `task` (a sweep on a timer): it still throws what it throws. */
export function counted<T>(
  metrics: GcMetrics | undefined,
  task: string,
  work: () => Promise<T>,
): () => Promise<T> {
  if (!metrics) return work;
  return async () => {
    try {
      const out = await work();
      metrics.run(task, true);
      return out;
    } catch (err) {
      metrics.run(task, false);
      throw err;
    }
  };
}

export function gcMetrics(m: Metrics): GcMetrics {
  const service = m.service;
  const runs = counter(m, "filestore_gc_runs_total", "Passes of GC and sweeps, by task", ["service", "task"]);
  const failures = counter(m, "filestore_gc_failures_total", "Failed passes of GC and sweeps, by task", [
    "service",
    "task",
  ]);
  const blobs = counter(m, "filestore_gc_freed_blobs_total", "Blobs deleted by GC", ["service"]);
  const bytes = counter(m, "filestore_gc_freed_bytes_total", "Bytes of blobs deleted by GC", ["service"]);
  return {
    run(task, ok) {
      runs.inc({ service, task });
      if (!ok) failures.inc({ service, task });
    },
    freed(n, size) {
      blobs.inc({ service }, n);
      bytes.inc({ service }, size);
    },
  };
}
