// Downloads: bytes answered by blob-store backend (declared lengths: a client may stop early), range
// answers, presigned redirects, and signed-link checks by verdict. Recorded by the download worker's logic
// through DownloadDeps.metrics (wire.ts injects it).
import { counter, type Metrics } from "./registry.ts";

export type LinkResult = "ok" | "expired" | "revoked" | "forged";

export interface DownloadMetrics {
  /** A GET answered with content: its backend, bytes and whether it is a range. */
  served(backend: string, bytes: number, ranged: boolean): void;
  /** A GET sent to a presigned S3 URL (the bytes then go from the bucket). */
  redirected(backend: string): void;
  link(result: LinkResult): void;
}

export function downloadMetrics(m: Metrics): DownloadMetrics {
  const service = m.service;
  const bytes = counter(m, "filestore_download_bytes_total", "Bytes of content answered, by backend", [
    "service",
    "backend",
  ]);
  const answers = counter(m, "filestore_download_responses_total", "Content answers by backend and kind", [
    "service",
    "backend",
    "kind",
  ]);
  const links = counter(m, "filestore_download_link_verifications_total", "Signed-link checks by result", [
    "service",
    "result",
  ]);
  return {
    served(backend, n, ranged) {
      bytes.inc({ service, backend }, n);
      answers.inc({ service, backend, kind: ranged ? "range" : "full" });
    },
    redirected: (backend) => answers.inc({ service, backend, kind: "redirect" }),
    link: (result) => links.inc({ service, result }),
  };
}
