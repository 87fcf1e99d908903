// Share links: opens by result (a wrong password and an unknown id are one result, as the service answers
// them), downloads consumed by kind (a file's URL, a folder's ZIP, a save to a drive) and refusals at the
// limit, and drop uploads by result with their bytes. Recorded by the file worker's ShareService
// (ShareDeps.metrics) and the upload worker's drop route (DropDeps.shareMetrics); no link ids in labels.
import { counter, type Metrics } from "./registry.ts";

export type ShareOpenResult = "ok" | "not_found" | "rate_limited";
export type ShareDownloadKind = "file" | "zip" | "save";
export type ShareDropResult = "ok" | "too_large" | "refused";

export interface ShareMetrics {
  opened(result: ShareOpenResult): void;
  /** A download consumed (`ok`) or refused because the link has none left. */
  download(kind: ShareDownloadKind, ok: boolean): void;
  dropped(result: ShareDropResult, bytes?: number): void;
}

export function shareMetrics(m: Metrics): ShareMetrics {
  const service = m.service;
  const opens = counter(m, "filestore_share_opens_total", "Share link opens by result", [
    "service",
    "result",
  ]);
  const downloads = counter(
    m,
    "filestore_share_downloads_total",
    "Share link downloads consumed (ok) or refused at the limit, by kind",
    ["service", "kind", "result"],
  );
  const drops = counter(m, "filestore_share_drops_total", "Uploads into drop links by result", [
    "service",
    "result",
  ]);
  const dropBytes = counter(m, "filestore_share_drop_bytes_total", "Bytes stored by drop-link uploads", [
    "service",
  ]);
  return {
    opened: (result) => opens.inc({ service, result }),
    download: (kind, ok) => downloads.inc({ service, kind, result: ok ? "ok" : "limit_reached" }),
    dropped(result, bytes = 0) {
      drops.inc({ service, result });
      if (bytes > 0) dropBytes.inc({ service }, bytes);
    },
  };
}
