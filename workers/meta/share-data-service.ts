// filestore.meta.v1.ShareDataService: share links' rows (logic in shares.ts; the copy of save-to-drive in
// copy.ts). The public contract and its checks (passwords, tokens, limits) are the file worker's
// (workers/file/shares/).
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { ShareDataService } from "../../proto/gen/filestore/meta/v1/shares_pb.ts";
import { invalidArgument, notFound, resourceExhausted } from "../lib/errors.ts";
import { pageSize } from "../lib/validate.ts";
import { copyFile } from "./copy.ts";
import type { Db } from "./db/database.ts";
import type { ShareMode } from "./db/schema.ts";
import { entry } from "./files.ts";
import { ConflictPolicy } from "./names.ts";
import { fileRecord, type MetaDeps } from "./records.ts";
import * as shares from "./shares.ts";
import { fileOp } from "./tree-service.ts";

const NOT_LIVE = "no such share link";

/**
 * One download of a share counted inside a copy's transaction (save to drive): the copy's failure undoes
 * it. The conditional update holds the limit under races (MariaDB: the row stays locked until commit;
 * SQLite: one writer at a time). Errors carry reasons, for the caller to tell them from the copy's own.
 */
async function countDownload(tx: Db, shareId: string, now: number): Promise<void> {
  const r = await shares.consumeDownload(tx, shareId, now);
  if (!r) throw reasonError(NOT_LIVE, Code.NotFound, Reason.SHARE_NOT_FOUND);
  if (r === "limit")
    throw reasonError("this link has no downloads left", Code.ResourceExhausted, Reason.SHARE_LIMIT_REACHED);
}

export const shareRecord = (s: shares.ShareView) => ({
  id: s.id,
  ownerId: s.owner_id,
  targetId: s.target_id,
  mode: s.mode,
  passwordHash: s.password_hash,
  version: BigInt(s.version),
  expiresAtMs: BigInt(s.expires_at ?? 0),
  maxDownloads: BigInt(s.max_downloads),
  downloadCount: BigInt(s.download_count),
  viewCount: BigInt(s.view_count),
  lastAccessAtMs: BigInt(s.last_access_at ?? 0),
  maxFileBytes: BigInt(s.max_file_bytes),
  createdAtMs: BigInt(s.created_at),
  updatedAtMs: BigInt(s.updated_at),
  targetName: s.target_name,
  targetKind: s.target_kind,
  ownerName: s.owner_name,
});

const nonNegative = (n: bigint, what: string) => {
  if (n < 0n) throw invalidArgument(`${what} cannot be negative`);
  return Number(n);
};

export function shareDataService(deps: MetaDeps): ServiceImpl<typeof ShareDataService> {
  const { db, now } = deps;
  return {
    async createShareRow(req) {
      if (!req.id || !req.ownerId || !req.targetId)
        throw invalidArgument("id, owner_id and target_id are required");
      if (req.mode !== "view" && req.mode !== "drop") throw invalidArgument('mode must be "view" or "drop"');
      const s = await fileOp(() =>
        shares.createShare(
          db,
          {
            id: req.id,
            ownerId: req.ownerId,
            targetId: req.targetId,
            mode: req.mode as ShareMode,
            passwordHash: req.passwordHash,
            expiresAt: req.expiresAtMs > 0n ? Number(req.expiresAtMs) : null,
            maxDownloads: nonNegative(req.maxDownloads, "max_downloads"),
            maxFileBytes: nonNegative(req.maxFileBytes, "max_file_bytes"),
          },
          now(),
        ),
      );
      return { share: shareRecord(s) };
    },
    async updateShareRow(req) {
      if (!req.ownerId || !req.id) throw invalidArgument("owner_id and id are required");
      const s = await shares.updateShare(
        db,
        req.ownerId,
        req.id,
        {
          passwordHash: req.passwordHash,
          expiresAt:
            req.expiresAtMs === undefined ? undefined : req.expiresAtMs > 0n ? Number(req.expiresAtMs) : null,
          maxDownloads:
            req.maxDownloads === undefined ? undefined : nonNegative(req.maxDownloads, "max_downloads"),
          maxFileBytes:
            req.maxFileBytes === undefined ? undefined : nonNegative(req.maxFileBytes, "max_file_bytes"),
        },
        now(),
      );
      if (!s) throw notFound(NOT_LIVE);
      return { share: shareRecord(s) };
    },
    async listShareRows(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      try {
        const page = await shares.listShares(db, req.ownerId, {
          pageSize: pageSize(req.pageSize),
          pageToken: req.pageToken,
          targetId: req.targetId || undefined,
        });
        return { shares: page.shares.map(shareRecord), nextPageToken: page.nextPageToken };
      } catch (err) {
        if (err instanceof shares.InvalidPageTokenError) throw invalidArgument(err.message);
        throw err;
      }
    },
    async deleteShareRow(req) {
      if (!req.ownerId || !req.id) throw invalidArgument("owner_id and id are required");
      if (!(await shares.deleteShare(db, req.ownerId, req.id))) throw notFound(NOT_LIVE);
      return {};
    },
    async getLiveShare(req) {
      if (!req.id) throw invalidArgument("id is required");
      const s = await shares.liveShare(db, req.id, now(), req.countView);
      if (!s) throw notFound(NOT_LIVE);
      if (!req.withItem) return { share: shareRecord(s), chain: [] };
      const item = await shares.shareItem(db, s, req.itemId, deps.maxFolderDepth);
      if (!item) throw notFound("no such file or folder");
      const rows = await Promise.all(item.chain.map((id) => entry(db, s.owner_id, id)));
      const found = rows.at(-1)?.id === item.id ? rows.at(-1) : await entry(db, s.owner_id, item.id);
      return {
        share: shareRecord(s),
        item: found && fileRecord(found),
        chain: rows.filter((r) => r.kind === "folder").map(fileRecord),
      };
    },
    async consumeShareDownload(req) {
      if (!req.id) throw invalidArgument("id is required");
      const r = await shares.consumeDownload(db, req.id, now());
      if (!r) throw notFound(NOT_LIVE);
      if (r === "limit") throw resourceExhausted("this link has no downloads left");
      return { downloadCount: BigInt(r.downloadCount), maxDownloads: BigInt(r.maxDownloads) };
    },
    async copySharedItem(req) {
      if (!req.sourceOwnerId || !req.itemId || !req.ownerId)
        throw invalidArgument("source_owner_id, item_id and owner_id are required");
      const res = await fileOp(() =>
        copyFile(
          db,
          {
            ownerId: req.ownerId,
            sourceOwnerId: req.sourceOwnerId,
            id: req.itemId,
            newParentId: req.newParentId,
            policy: ConflictPolicy.RENAME,
            within: req.countDownloadOfShare
              ? (tx) => countDownload(tx, req.countDownloadOfShare, now())
              : undefined,
          },
          now(),
          deps.maxFolderDepth,
          deps.quota,
        ),
      );
      return { file: fileRecord(res.file) };
    },
  };
}
