// The upload funnel: sessions from creation to completion (or abort, or expiry), parts, instant uploads
// (offers, hits, failed proofs), tus uploads, bytes of new content, hash mismatches. Recorded by the
// upload worker's logic through UploadDeps.metrics (wire.ts injects it).
import { counter, type Metrics } from "./registry.ts";

export type SessionEvent = "created" | "resumed" | "completed" | "aborted" | "expired";
export type PartResult = "received" | "rejected";
export type InstantEvent = "offered" | "hit" | "proof_failed" | "sha1_linked" | "sha1_missed";
export type TusEvent = "created" | "completed";

export interface UploadMetrics {
  session(event: SessionEvent, n?: number): void;
  /** A part stored, or refused (wrong size or hash: the client sends it again). */
  part(result: PartResult): void;
  instant(event: InstantEvent): void;
  tus(event: TusEvent): void;
  /** Content made visible as a file: its size, and whether the store already held it (deduplicated). */
  stored(bytes: number, deduplicated: boolean): void;
  /** A body whose size or hash did not match what its client announced. */
  hashMismatch(): void;
}

export function uploadMetrics(m: Metrics): UploadMetrics {
  const service = m.service;
  const sessions = counter(m, "filestore_upload_sessions_total", "Upload sessions by event", [
    "service",
    "event",
  ]);
  const parts = counter(m, "filestore_upload_parts_total", "Upload session parts by result", [
    "service",
    "result",
  ]);
  const instant = counter(m, "filestore_upload_instant_total", "Instant uploads (by hash) by event", [
    "service",
    "event",
  ]);
  const tus = counter(m, "filestore_upload_tus_total", "tus uploads by event", ["service", "event"]);
  const files = counter(
    m,
    "filestore_upload_files_total",
    "Uploads that became files, by whether the content was new",
    ["service", "content"],
  );
  const bytes = counter(m, "filestore_upload_stored_bytes_total", "Bytes of uploads that became files", [
    "service",
    "content",
  ]);
  const mismatches = counter(
    m,
    "filestore_upload_hash_mismatches_total",
    "Upload bodies or parts whose hash or size did not match the announced one",
    ["service"],
  );
  return {
    session: (event, n = 1) => sessions.inc({ service, event }, n),
    part: (result) => parts.inc({ service, result }),
    instant: (event) => instant.inc({ service, event }),
    tus: (event) => tus.inc({ service, event }),
    stored(n, deduplicated) {
      const content = deduplicated ? "deduplicated" : "new";
      files.inc({ service, content });
      bytes.inc({ service, content }, n);
    },
    hashMismatch: () => mismatches.inc({ service }),
  };
}
