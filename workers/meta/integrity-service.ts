// filestore.meta.v1.IntegrityService: the database's side of the consistency checker (logic in
// integrity.ts; the walk of the blob stores is the file worker's, workers/file/fsck.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { IntegrityService } from "../../proto/gen/filestore/meta/v1/integrity_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { hex, pageSize } from "../lib/validate.ts";
import * as integrity from "./integrity.ts";
import { resetStuckTransfer, stuckWork } from "./integrity-stuck.ts";
import { takeLease } from "./leases.ts";
import type { MetaDeps } from "./records.ts";
import { sessionRecord } from "./upload-session-service.ts";

/** Locations FindUnknownLocations looks up at once (one IN list per table). */
const MAX_LOCATIONS = 1000;

/** A stale period: not negative. */
function staleMs(v: bigint): number {
  if (v < 0n) throw invalidArgument("stale_ms must not be negative");
  return Number(v);
}

/** A lease's name and holder: both required, at most 64 characters (the columns). */
function leaseKey(req: { name: string; holder: string }) {
  for (const [field, v] of [
    ["name", req.name],
    ["holder", req.holder],
  ] as const)
    if (v.length === 0 || v.length > 64) throw invalidArgument(`${field} must be 1 to 64 characters`);
  return req;
}

export function integrityService({ db, now }: MetaDeps): ServiceImpl<typeof IntegrityService> {
  return {
    async checkBlobs(req) {
      const after = req.afterSha256 === "" ? "" : hex(req.afterSha256, 64, "after_sha256");
      const page = await integrity.checkBlobPage(db, after, pageSize(req.limit));
      const blobs = [];
      for (const b of page) {
        const fixed =
          req.repair && b.refcount !== b.counted
            ? await integrity.repairRefcount(db, b.sha256, now())
            : undefined;
        blobs.push({
          sha256: b.sha256,
          backend: b.backend,
          location: b.location,
          size: BigInt(b.size),
          refcount: BigInt(fixed?.before ?? b.refcount),
          countedRefs: BigInt(fixed?.after ?? b.counted),
          repaired: fixed !== undefined,
        });
      }
      return { blobs };
    },
    async listBlobReferences(req) {
      const refs = await integrity.blobReferences(db, hex(req.sha256, 64, "sha256"), pageSize(req.limit));
      return { references: refs };
    },
    async findUnknownLocations(req) {
      if (!req.backend) throw invalidArgument("backend is required");
      if (req.locations.length > MAX_LOCATIONS)
        throw invalidArgument(`at most ${MAX_LOCATIONS} locations per call`);
      return { unknown: await integrity.unknownLocations(db, req.backend, req.locations) };
    },
    async listStuckWork(req) {
      const w = await stuckWork(db, now() - staleMs(req.staleMs), pageSize(req.limit));
      return {
        sessionCount: BigInt(w.sessions.count),
        sessionBytes: BigInt(w.sessions.bytes),
        sessions: w.sessions.items.map(sessionRecord),
        transferCount: BigInt(w.transfers.count),
        transferBytes: BigInt(w.transfers.bytes),
        transfers: w.transfers.items.map((t) => ({
          blobSha256: t.blob_sha256,
          state: t.state,
          attempts: t.attempts,
          lastError: t.last_error ?? "",
          targetLocation: t.target_location ?? "",
          updatedAtMs: BigInt(t.updated_at),
          size: BigInt(t.size),
        })),
        deletionCount: BigInt(w.deletions.count),
        deletionBytes: BigInt(w.deletions.bytes),
        deletions: w.deletions.items.map((d) => ({ ...d, size: BigInt(d.size), sinceMs: BigInt(d.since) })),
      };
    },
    async resetStuckTransfer(req) {
      const sha = hex(req.blobSha256, 64, "blob_sha256");
      const t = now();
      const r = await resetStuckTransfer(db, sha, t - staleMs(req.staleMs), t);
      return { reset: r.reset, leftoverLocation: r.leftover ?? "" };
    },
    async takeMaintenanceLease(req) {
      const { name, holder } = leaseKey(req);
      if (req.ttlMs <= 0n) throw invalidArgument("ttl_ms must be positive");
      return { taken: await takeLease(db, name, holder, Number(req.ttlMs), now()) };
    },
    async replaceBlobLocation(req) {
      if (!req.fromLocation || !req.toLocation)
        throw invalidArgument("from_location and to_location are required");
      const sha = hex(req.sha256, 64, "sha256");
      return { replaced: await integrity.replaceLocation(db, sha, req.fromLocation, req.toLocation) };
    },
  };
}
