// The transfer worker: attempts by outcome and their duration, bytes moved to S3, jobs in flight in this
// process, retries, dead letters and re-drives (TransferCounters' events), and the jobs table by state
// (queue depth: MetaService.CountTransferJobs read at most every `maxAgeSeconds`, never per scrape).
import { cachedGauge } from "./cached.ts";
import { counter, gauge, histogram, type Metrics } from "./registry.ts";

/** Job lengths: a copy to S3 takes from milliseconds to hours. */
const JOB_BUCKETS = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600];

export interface TransferMetrics {
  /** Starts timing an attempt; the returned function ends it with its outcome. */
  attempt(): (outcome: string) => void;
  moved(bytes: number): void;
  /** TransferCounters' events (retried, deadLettered, redriven, succeeded). */
  counted(counter: string, n: number): void;
}

export function transferMetrics(m: Metrics): TransferMetrics {
  const service = m.service;
  const attempts = counter(m, "filestore_transfer_attempts_total", "Transfer attempts by outcome", [
    "service",
    "outcome",
  ]);
  const duration = histogram(
    m,
    "filestore_transfer_job_duration_seconds",
    "Transfer attempts' duration by outcome",
    ["service", "outcome"],
    JOB_BUCKETS,
  );
  const inFlight = gauge(m, "filestore_transfer_in_flight", "Transfer attempts running in this process", [
    "service",
  ]);
  const bytes = counter(m, "filestore_transfer_moved_bytes_total", "Bytes moved to S3 (verified, switched)", [
    "service",
  ]);
  const events = {
    retried: counter(m, "filestore_transfer_retries_total", "Failed attempts scheduled to run again", [
      "service",
    ]),
    deadLettered: counter(m, "filestore_transfer_dead_letters_total", "Jobs that became dead letters", [
      "service",
    ]),
    redriven: counter(m, "filestore_transfer_redriven_total", "Dead letters put back in the queue", [
      "service",
    ]),
  } as Record<string, ReturnType<typeof counter>>;
  inFlight.set({ service }, 0);
  return {
    attempt() {
      const started = performance.now();
      inFlight.inc({ service });
      return (outcome) => {
        inFlight.dec({ service });
        attempts.inc({ service, outcome });
        duration.observe({ service, outcome }, (performance.now() - started) / 1000);
      };
    },
    moved: (n) => bytes.inc({ service }, n),
    counted: (name, n) => events[name]?.inc({ service }, n),
  };
}

export interface TransferJobCounts {
  queued: number;
  running: number;
  failed: number;
}

/** filestore_transfer_queue_jobs{state}: the jobs table by state, read at most every maxAgeSeconds. */
export function transferQueueGauge(
  m: Metrics,
  read: () => Promise<TransferJobCounts>,
  maxAgeSeconds: number,
  onError?: (err: unknown) => void,
): void {
  const gauge = {
    name: "filestore_transfer_queue_jobs",
    help: "Transfer jobs by state (queued: waiting; running: being copied; failed: dead letters)",
    labelNames: ["state"],
  };
  const fill = (set: (labels: Record<string, string>, v: number) => void, c: TransferJobCounts) => {
    for (const state of ["queued", "running", "failed"] as const) set({ state }, c[state]);
  };
  cachedGauge(m, gauge, read, fill, maxAgeSeconds, onError);
}
