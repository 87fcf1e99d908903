// filestore.meta.v1.QuotaService: quotas and usage counters (logic in quota.ts). The checks themselves run
// inside the transactions that add content (content-service, upload-session-service, drive-service).
import type { ServiceImpl } from "@connectrpc/connect";
import type { QuotaService } from "../../proto/gen/filestore/meta/v1/quota_pb.ts";
import { invalidArgument, notFound } from "../lib/errors.ts";
import { pageSize, size } from "../lib/validate.ts";
import * as quota from "./quota.ts";
import type { MetaDeps } from "./records.ts";

/** A usage as its message (also part of AdminDataService's users). */
export const usageRecord = (u: quota.Usage) => ({
  userId: u.userId,
  usedBytes: BigInt(u.used),
  reservedBytes: BigInt(u.reserved),
  quotaBytes: BigInt(u.quota),
  defaultQuota: u.defaultQuota,
  files: BigInt(u.files),
  trashBytes: BigInt(u.trashBytes),
  versionBytes: BigInt(u.versionBytes),
});

const knownUser = (err: unknown): never => {
  if (err instanceof quota.UnknownUserError) throw notFound("no such user");
  if (err instanceof quota.InvalidQuotaError) throw invalidArgument(err.message);
  throw err;
};

const bytesOf = (v: bigint) => {
  if (v < 0n) throw invalidArgument("bytes cannot be negative");
  return size(v);
};

export function quotaService({ db, now, quota: rules }: MetaDeps): ServiceImpl<typeof QuotaService> {
  const ownerOf = (id: string) => {
    if (!id) throw invalidArgument("owner_id is required");
    return id;
  };
  return {
    async reserveUploadBytes(req) {
      await quota.reservePending(db, rules, ownerOf(req.ownerId), bytesOf(req.bytes), now());
      return {};
    },
    async releaseUploadBytes(req) {
      await quota.releasePending(db, ownerOf(req.ownerId), bytesOf(req.bytes));
      return {};
    },
    async checkQuota(req) {
      await quota.requireRoom(db, rules, ownerOf(req.ownerId), bytesOf(req.bytes)).catch(knownUser);
      return {};
    },
    async getUsage(req) {
      const u = await quota.usageOf(db, rules, ownerOf(req.ownerId)).catch(knownUser);
      return { usage: usageRecord(u) };
    },
    async setQuota(req) {
      if (!req.userId) throw invalidArgument("user_id is required");
      if (!req.useDefault && req.quotaBytes < 0n)
        throw invalidArgument("a quota cannot be negative (0: unlimited)");
      await quota.setQuota(db, req.userId, req.useDefault ? null : size(req.quotaBytes)).catch(knownUser);
      return { usage: usageRecord(await quota.usageOf(db, rules, req.userId)) };
    },
    async recountUsage(req) {
      const res = await quota.recountUsage(db, now(), {
        afterUserId: req.afterUserId,
        limit: pageSize(req.limit),
        dryRun: req.dryRun,
      });
      return {
        drifts: res.drifts.map((d) => ({
          userId: d.userId,
          usedBefore: BigInt(d.usedBefore),
          usedAfter: BigInt(d.usedAfter),
          reservedBefore: BigInt(d.reservedBefore),
          reservedAfter: BigInt(d.reservedAfter),
        })),
        checked: res.checked,
        lastUserId: res.lastUserId,
      };
    },
  };
}
