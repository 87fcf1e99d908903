// The consistency checker's findings (workers/file/fsck.ts): what the last check found of each kind, in
// items and bytes, and the checks run (dry or repair). Gauges, not counters: a finding is a state that a
// repair (or a fix by hand) ends, and the next check says so.
import { counter, gauge, type Metrics } from "./registry.ts";

/** What a check reports per kind: how many, and their bytes (0 for counts without bytes). */
export type FsckFindings = Record<string, { count: number; bytes: number }>;

export interface FsckMetrics {
  checked(repair: boolean, findings: FsckFindings): void;
  /** Bytes the scrub read back and re-hashed. */
  scrubbed(bytes: number): void;
  /** A periodic check ran (FSCK_INTERVAL_HOURS) and finished; `clean`: it found nothing. */
  periodic(clean: boolean, at: number): void;
}

export function fsckMetrics(m: Metrics): FsckMetrics {
  const service = m.service;
  const runs = counter(m, "filestore_fsck_runs_total", "Consistency checks run, dry or repairing", [
    "service",
    "mode",
  ]);
  const found = gauge(m, "filestore_fsck_findings", "What the last consistency check found, by kind", [
    "service",
    "kind",
  ]);
  const bytes = gauge(m, "filestore_fsck_findings_bytes", "Bytes concerned by the last check's findings", [
    "service",
    "kind",
  ]);
  const scrubbed = counter(m, "filestore_fsck_scrubbed_bytes_total", "Bytes the scrub re-hashed", [
    "service",
  ]);
  const last = gauge(
    m,
    "filestore_fsck_last_periodic_run_timestamp_seconds",
    "When the last periodic consistency check finished",
    ["service"],
  );
  const lastClean = gauge(m, "filestore_fsck_last_periodic_run_clean", "1 when it found nothing", [
    "service",
  ]);
  return {
    scrubbed(n) {
      scrubbed.inc({ service }, n);
    },
    periodic(clean, at) {
      last.set({ service }, Math.floor(at / 1000));
      lastClean.set({ service }, clean ? 1 : 0);
    },
    checked(repair, findings) {
      runs.inc({ service, mode: repair ? "repair" : "dry" });
      for (const [kind, f] of Object.entries(findings)) {
        found.set({ service, kind }, f.count);
        bytes.set({ service, kind }, f.bytes);
      }
    },
  };
}
