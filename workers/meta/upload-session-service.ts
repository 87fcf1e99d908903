// filestore.meta.v1.UploadSessionService: multipart upload sessions, their parts and completion leases
// (logic in uploads.ts).
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateUploadSessionResponse_Refusal,
  TransitionUploadSessionRequest_Transition,
  type UploadSessionService,
} from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex, pageSize, size } from "../lib/validate.ts";
import * as content from "./content.ts";
import { MAX_PARTS } from "./part-sizes.ts";
import type { MetaDeps } from "./records.ts";
import * as uploads from "./uploads.ts";

export const sessionRecord = (s: uploads.SessionRow) => ({
  id: s.id,
  ownerId: s.owner_id,
  parentId: s.parent_id,
  name: s.name,
  size: BigInt(s.size),
  sha256: s.sha256 ?? "",
  sha1: s.sha1 ?? "",
  partSize: BigInt(s.part_size),
  partCount: s.part_count,
  backend: s.backend,
  state: s.state,
  fileId: s.file_id ?? "",
  createdAt: timestampFromMs(s.created_at),
  expiresAt: timestampFromMs(s.expires_at),
  completionOwner: s.completion_owner ?? "",
  completingSince: s.completing_since == null ? undefined : timestampFromMs(s.completing_since),
  onConflict: Number(s.on_conflict ?? 0),
  shareId: s.share_id ?? "",
});

const refusals: Record<uploads.Refusal, CreateUploadSessionResponse_Refusal> = {
  too_many_open_sessions: CreateUploadSessionResponse_Refusal.TOO_MANY_OPEN_SESSIONS,
  storage_full: CreateUploadSessionResponse_Refusal.STORAGE_FULL,
};

export function uploadSessionService({ db, now, quota }: MetaDeps): ServiceImpl<typeof UploadSessionService> {
  return {
    async createUploadSession(req) {
      const s = req.session;
      if (!s?.id || !s.ownerId || !s.name || !s.backend || !s.expiresAt) {
        throw invalidArgument("session id, owner_id, name, backend and expires_at are required");
      }
      const row = await uploads
        .openSession(
          db,
          {
            id: s.id,
            owner_id: s.ownerId,
            parent_id: s.parentId,
            name: s.name,
            size: size(s.size),
            sha256: s.sha256 ? hex(s.sha256, 64, "sha256") : null,
            sha1: s.sha1 ? hex(s.sha1, 40, "sha1") : null,
            part_size: size(s.partSize),
            part_count: s.partCount,
            backend: s.backend,
            on_conflict: Number(s.onConflict),
            share_id: s.shareId || null,
            state: "open",
            file_id: null,
            created_at: now(),
            expires_at: timestampDate(s.expiresAt).getTime(),
          },
          {
            maxOpen: Math.max(0, req.maxOpenSessions),
            availableBytes: req.availableBytes === undefined ? undefined : Number(req.availableBytes),
            quota,
          },
        )
        .catch((err) => {
          if (err instanceof content.FolderNotFoundError)
            throw notFound("no such folder (or it is in the trash)");
          throw err;
        });
      if ("refused" in row) return { refused: refusals[row.refused] };
      return { session: sessionRecord(row) };
    },
    async getUploadSession(req) {
      const row = await uploads.findSession(db, req.id, req.ownerId);
      if (!row) throw notFound("no such upload session");
      return { session: sessionRecord(row) };
    },
    async recordUploadPart(req) {
      const p = req.part;
      if (!p?.sessionId || p.partNumber < 1 || p.partNumber > MAX_PARTS) {
        throw invalidArgument(`session_id and a part_number between 1 and ${MAX_PARTS} are required`);
      }
      const ok = await uploads.recordPart(
        db,
        {
          session_id: p.sessionId,
          part_number: p.partNumber,
          size: size(p.size),
          // Empty: not known (the part was not checked on upload).
          sha256: p.sha256 === "" ? "" : hex(p.sha256, 64, "sha256"),
          created_at: now(),
        },
        now(),
      );
      if (!ok) throw failedPrecondition("the upload session is not open (completed, aborted or expired)");
      return {};
    },
    async listUploadParts(req) {
      const parts = await uploads.listParts(db, req.sessionId);
      return {
        parts: parts.map((p) => ({
          sessionId: p.session_id,
          partNumber: p.part_number,
          size: BigInt(p.size),
          sha256: p.sha256,
        })),
      };
    },
    async findOpenUploadSession(req) {
      const row = await uploads.findOpenSession(
        db,
        {
          ownerId: req.ownerId,
          size: size(req.size),
          sha256: req.sha256 ? hex(req.sha256, 64, "sha256") : null,
          sha1: req.sha1 ? hex(req.sha1, 40, "sha1") : null,
        },
        now(),
      );
      return row ? { session: sessionRecord(row) } : {};
    },
    async transitionUploadSession(req) {
      const T = TransitionUploadSessionRequest_Transition;
      const leaseMs = Number(req.leaseMs > 0n ? req.leaseMs : 0n);
      const took = (t: uploads.Takeover) => ({ done: t.done, previousOwner: t.previousOwner ?? "" });
      // Without owner (callers from before the lease): the session is held by nobody in particular.
      const owner = req.owner || null;
      switch (req.transition) {
        case T.BEGIN_COMPLETION:
          return took(await uploads.takeCompletion(db, req.id, owner, leaseMs, now()));
        case T.RENEW:
          if (!owner) throw invalidArgument("owner (the completion attempt) is required to renew");
          return { done: await uploads.renewCompletion(db, req.id, owner, now()) };
        case T.REOPEN:
          if (!owner && leaseMs > 0) return took(await uploads.reopenStale(db, req.id, leaseMs, now()));
          return { done: await uploads.reopen(db, req.id, owner) };
        case T.COMPLETE:
          if (!req.fileId) throw invalidArgument("file_id is required to complete");
          return { done: await uploads.markCompleted(db, req.id, req.fileId, owner) };
        case T.ABORT:
          return { done: await uploads.abortSession(db, req.id) };
        default:
          throw invalidArgument("transition is required");
      }
    },
    async listExpiredUploadSessions(req) {
      const rows = await uploads.expiredSessions(db, now(), pageSize(req.limit));
      return { sessions: rows.map(sessionRecord) };
    },
    async deleteUploadSession(req) {
      await uploads.deleteSession(db, req.id);
      return {};
    },
  };
}
