// What ShareService's logic is given, and how links' rows become the public messages.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { FileRecord } from "../../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { ShareRecord } from "../../../proto/gen/filestore/meta/v1/shares_pb.ts";
import { ItemKind, ShareMode } from "../../../proto/gen/filestore/share/v1/share_pb.ts";
import type { Publishers } from "../../lib/bus/events.ts";
import type { MetaClient } from "../../lib/meta-client.ts";
import type { ShareMetrics } from "../../lib/metrics/shares.ts";
import type { RateLimiter } from "../../lib/ratelimit.ts";
import type { ShareConfig } from "./config.ts";

export interface ShareDeps {
  meta: MetaClient;
  config: ShareConfig;
  /** Signs share tokens (token.ts). */
  tokenKey: Uint8Array;
  /** Signs download URLs: the download worker's link key (workers/download/links.ts). */
  linkKey: Uint8Array;
  /** PUBLIC_DOWNLOAD_URL ("" : gateway-relative URLs). */
  publicUrl: string;
  /** ZIP_MAX_ENTRIES (the download worker's setting): a larger folder gets no ZIP URL. */
  zipMaxEntries: number;
  limiter: RateLimiter;
  now: () => number;
  /** Opens and downloads (workers/lib/metrics/shares.ts); none in most tests. */
  metrics?: ShareMetrics;
  /** The event bus's publishers (a revoked link is told once meta deleted it); none in most tests. */
  events?: Publishers;
}

export const MODES: Record<string, ShareMode> = { view: ShareMode.VIEW, drop: ShareMode.DROP };
export const KINDS: Record<string, ItemKind> = { file: ItemKind.FILE, folder: ItemKind.FOLDER };

const at = (ms: bigint) => (ms > 0n ? timestampFromMs(Number(ms)) : undefined);

/** A link as its owner sees it. */
export const shareMessage = (s: ShareRecord) => ({
  id: s.id,
  targetId: s.targetId,
  targetName: s.targetName,
  targetKind: KINDS[s.targetKind] ?? ItemKind.UNSPECIFIED,
  mode: MODES[s.mode] ?? ShareMode.UNSPECIFIED,
  hasPassword: s.passwordHash !== "",
  expiresAt: at(s.expiresAtMs),
  maxDownloads: s.maxDownloads,
  downloadCount: s.downloadCount,
  viewCount: s.viewCount,
  lastAccessAt: at(s.lastAccessAtMs),
  maxFileBytes: s.maxFileBytes,
  createdAt: at(s.createdAtMs),
  updatedAt: at(s.updatedAtMs),
  path: `/s/${s.id}`,
});

/** An entry as a visitor sees it (no hashes, no owner, no parent outside the share). */
export const itemMessage = (f: FileRecord) => ({
  id: f.id,
  name: f.name,
  kind: KINDS[f.kind] ?? ItemKind.UNSPECIFIED,
  size: f.size,
  updatedAt: f.updatedAt,
});

export { at };
