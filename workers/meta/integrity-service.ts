// filestore.meta.v1.IntegrityService: the database's side of the consistency checker (logic in
// integrity.ts; the walk of the blob stores is the file worker's, workers/file/fsck.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { IntegrityService } from "../../proto/gen/filestore/meta/v1/integrity_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { hex, pageSize } from "../lib/validate.ts";
import * as integrity from "./integrity.ts";
import type { MetaDeps } from "./records.ts";

/** Locations FindUnknownLocations looks up at once (one IN list per table). */
const MAX_LOCATIONS = 1000;

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
  };
}
