// filestore.meta.v1.DerivedService: derived blobs (thumbnails) keyed by content and kind (logic in
// derived.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { DerivedService } from "../../proto/gen/filestore/meta/v1/derived_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { hex, pageSize, size } from "../lib/validate.ts";
import * as derived from "./derived.ts";
import type { MetaDeps } from "./records.ts";

/** The kinds of derived blob there are: thumbnails at two sizes. */
export const DERIVED_KINDS = new Set(["thumb-256", "thumb-1024"]);
/** Files GetFilesDerived resolves at once (a page of a folder). */
const MAX_FILES = 500;

function kindOf(kind: string): string {
  if (!DERIVED_KINDS.has(kind)) throw invalidArgument(`kind must be one of ${[...DERIVED_KINDS].join(", ")}`);
  return kind;
}

const record = (r: derived.DerivedRow) => ({ ...r, size: BigInt(r.size) });

export function derivedService({ db, now }: MetaDeps): ServiceImpl<typeof DerivedService> {
  return {
    async listDerivedCandidates(req) {
      const after = {
        createdAt: Number(req.afterCreatedAt),
        sha256: req.afterSha256 === "" ? "" : hex(req.afterSha256, 64, "after_sha256"),
      };
      const rows = await derived.listCandidates(db, kindOf(req.kind), after, pageSize(req.limit));
      return {
        candidates: rows.map((c) => ({ ...c, size: BigInt(c.size), createdAt: BigInt(c.created_at) })),
      };
    },
    async putDerived(req) {
      const r = req.record;
      if (!r) throw invalidArgument("record is required");
      if (r.state !== "ready" && r.state !== "skipped")
        throw invalidArgument('state must be "ready" or "skipped"');
      if (r.state === "ready" && (!r.backend || !r.location))
        throw invalidArgument("a ready record needs backend and location");
      const row: derived.DerivedRow = {
        sha256: hex(r.sha256, 64, "record.sha256"),
        kind: kindOf(r.kind),
        state: r.state,
        backend: r.backend,
        location: r.location,
        size: size(r.size),
      };
      return { recorded: await derived.putDerived(db, row, now()) };
    },
    async getDerived(req) {
      const row = await derived.getDerived(db, hex(req.sha256, 64, "sha256"), kindOf(req.kind));
      return row ? { found: true, record: record(row) } : { found: false };
    },
    async getFilesDerived(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      if (req.fileIds.length > MAX_FILES) throw invalidArgument(`at most ${MAX_FILES} file_ids at once`);
      return { files: await derived.filesDerived(db, req.ownerId, req.fileIds, kindOf(req.kind)) };
    },
    async listOrphanedDerived(req) {
      return { records: (await derived.listOrphaned(db, pageSize(req.limit))).map(record) };
    },
    async forgetDerived(req) {
      await derived.forgetDerived(db, hex(req.sha256, 64, "sha256"), kindOf(req.kind), req.location);
      return {};
    },
  };
}
