// filestore.meta.v1.MetaService over the store functions.
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  CreateUploadSessionResponse_Refusal,
  MetaService,
  SwitchBlobLocationResponse_Outcome,
  TransitionUploadSessionRequest_Transition,
} from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { Db } from "../lib/db/database.ts";
import {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  unauthenticated,
} from "../lib/errors.ts";
import type { ServiceModule } from "../lib/server.ts";
import * as content from "./content.ts";
import * as files from "./files.ts";
import * as links from "./links.ts";
import { repairOrphans } from "./orphans.ts";
import * as transfer from "./transfer.ts";
import * as uploads from "./uploads.ts";
import * as store from "./users.ts";

const hex64 = /^[0-9a-f]{64}$/;

function userRecord(u: store.UserRow) {
  return {
    id: u.id,
    username: u.username,
    passwordHash: u.password_hash,
    createdAt: timestampFromMs(u.created_at),
    lastActiveAt: timestampFromMs(u.last_active_at),
  };
}

function hex(value: string, length: 40 | 64, field: string): string {
  if (value.length !== length || !/^[0-9a-f]+$/.test(value)) {
    throw invalidArgument(`${field} must be ${length} lower-case hex characters`);
  }
  return value;
}

function size(value: bigint): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))
    throw invalidArgument("sizes must be between 0 and 2^53");
  return Number(value);
}

function newFile(f: { ownerId: string; parentId: string; name: string } | undefined): content.NewFile {
  if (!f?.ownerId || !f.name) throw invalidArgument("file.owner_id and file.name are required");
  return { ownerId: f.ownerId, parentId: f.parentId, name: f.name };
}

const blobRecord = (b: content.BlobRow) => ({
  sha256: b.sha256,
  sha1: b.sha1,
  size: BigInt(b.size),
  backend: b.backend,
  location: b.location,
  state: b.state,
  refcount: b.refcount,
});

const fileRecord = (f: content.FileRow & { sha1?: string }) => ({
  id: f.id,
  ownerId: f.owner_id,
  parentId: f.parent_id,
  name: f.name,
  kind: f.kind,
  blobSha256: f.blob_sha256 ?? "",
  size: BigInt(f.size),
  status: f.status,
  createdAt: timestampFromMs(Number(f.created_at)),
  updatedAt: timestampFromMs(Number(f.updated_at)),
  deletedAt: f.deleted_at === null ? undefined : timestampFromMs(Number(f.deleted_at)),
  sha1: f.sha1 ?? "",
});

const SORT_KEYS: Record<string, files.SortKey> = {
  "": "name",
  name: "name",
  size: "size",
  updated_at: "updated_at",
};

/** Runs a file-management call, turning its errors into codes a user can act on. */
async function fileOp<T>(
  op: () => Promise<T>,
  onNameTaken?: (e: files.NameTakenError) => string,
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    // Someone else's entry and a missing one fail alike.
    if (err instanceof files.FileNotFoundError) throw notFound("no such file or folder");
    if (err instanceof files.FolderNotFoundError) throw notFound("no such folder (or it is in the trash)");
    if (err instanceof files.NameTakenError) {
      throw alreadyExists(
        onNameTaken?.(err) ?? `${err.message}: choose another name, or rename that one first`,
      );
    }
    if (
      err instanceof files.InvalidNameError ||
      err instanceof files.InvalidCursorError ||
      err instanceof files.InvalidMoveError
    )
      throw invalidArgument(err.message);
    // The tree's current shape refuses it (not the arguments as such): FailedPrecondition.
    if (err instanceof files.TrashStateError || err instanceof files.FolderDepthError)
      throw failedPrecondition(err.message);
    throw err;
  }
}

function owned(req: { ownerId: string; id?: string }): void {
  if (!req.ownerId || req.id === "") throw invalidArgument("owner_id and id are required");
}

const sessionRecord = (s: uploads.SessionRow) => ({
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
});

const refusals: Record<uploads.Refusal, CreateUploadSessionResponse_Refusal> = {
  too_many_open_sessions: CreateUploadSessionResponse_Refusal.TOO_MANY_OPEN_SESSIONS,
  storage_full: CreateUploadSessionResponse_Refusal.STORAGE_FULL,
};

/** An upload's target folder is gone: FailedPrecondition (NotFound means "no such content" there). */
function targetFolder(err: unknown): unknown {
  if (err instanceof content.FolderNotFoundError)
    return failedPrecondition(
      'the target folder does not exist or is in the trash: choose another folder (parent_id, "" for the root; CompleteUploadSession takes one too)',
    );
  return err;
}

const msOrUndefined = (ms: number | null) => (ms === null ? undefined : timestampFromMs(ms));

const transferJobRecord = (j: transfer.TransferJobRow) => ({
  blobSha256: j.blob_sha256,
  state: j.state,
  attempts: j.attempts,
  lastError: j.last_error ?? "",
  targetLocation: j.target_location ?? "",
  publishedAt: msOrUndefined(j.published_at),
  cleanupLocation: j.cleanup_location ?? "",
  cleanupAfter: msOrUndefined(j.cleanup_after),
  createdAt: timestampFromMs(j.created_at),
  updatedAt: timestampFromMs(j.updated_at),
});

/** A page size between 1 and 1000 (100 when unset). */
const pageLimit = (limit: number) => (limit > 0 ? Math.min(limit, 1000) : 100);

const switchOutcomes = {
  switched: SwitchBlobLocationResponse_Outcome.SWITCHED,
  superseded: SwitchBlobLocationResponse_Outcome.SUPERSEDED,
  gone: SwitchBlobLocationResponse_Outcome.GONE,
};

function tokenHash(value: string, field = "token_hash"): string {
  if (!hex64.test(value)) throw invalidArgument(`${field} must be 64 lower-case hex characters`);
  return value;
}

export interface MetaLimits {
  /** How deep folders may nest (MAX_FOLDER_DEPTH). */
  maxFolderDepth?: number;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A session id given by the caller (a lower-case UUID), or undefined for none. */
function sessionId(value: string): string | undefined {
  if (!value) return undefined;
  if (!uuid.test(value)) throw invalidArgument("session_id must be a lower-case UUID");
  return value;
}

const revocationExpiry = (t: Timestamp | undefined): number | undefined =>
  t ? timestampDate(t).getTime() : undefined;

export function metaModule(db: Db, now: () => number = Date.now, limits: MetaLimits = {}): ServiceModule {
  const maxDepth = limits.maxFolderDepth ?? files.DEFAULT_MAX_FOLDER_DEPTH;
  return {
    services: [MetaService],
    routes(router: ConnectRouter) {
      router.service(MetaService, {
        async createUser(req) {
          if (!req.username || !req.passwordHash)
            throw invalidArgument("username and password_hash are required");
          try {
            return { user: userRecord(await store.createUser(db, req.username, req.passwordHash, now())) };
          } catch (err) {
            if (err instanceof store.DuplicateUsernameError)
              throw alreadyExists(`username "${req.username}" is taken`);
            throw err;
          }
        },
        async getUser(req) {
          const key = req.key;
          if (!key.case || !key.value) throw invalidArgument("give an id or a username");
          const user = await store.findUser(
            db,
            key.case === "id" ? { id: key.value } : { username: key.value },
          );
          if (!user) throw notFound("no such user");
          return { user: userRecord(user) };
        },
        async touchUser(req) {
          if (!req.id) throw invalidArgument("id is required");
          await store.touchUser(db, req.id, now());
          return {};
        },
        async createRefreshToken(req) {
          if (!req.userId || !req.expiresAt) throw invalidArgument("user_id and expires_at are required");
          await store.createRefreshToken(
            db,
            {
              userId: req.userId,
              tokenHash: tokenHash(req.tokenHash),
              expiresAt: timestampDate(req.expiresAt).getTime(),
              familyId: sessionId(req.sessionId),
            },
            now(),
          );
          return {};
        },
        async rotateRefreshToken(req) {
          if (!req.newExpiresAt) throw invalidArgument("new_expires_at is required");
          try {
            return await store.rotateRefreshToken(
              db,
              tokenHash(req.tokenHash),
              {
                tokenHash: tokenHash(req.newTokenHash, "new_token_hash"),
                expiresAt: timestampDate(req.newExpiresAt).getTime(),
              },
              now(),
              revocationExpiry(req.revocationExpiresAt),
            );
          } catch (err) {
            if (err instanceof store.TokenReplayError) {
              throw unauthenticated(
                "refresh token was already used; every session of that sign-in is now revoked",
              );
            }
            if (err instanceof store.TokenInvalidError)
              throw unauthenticated("refresh token is invalid or expired");
            throw err;
          }
        },
        async revokeRefreshToken(req) {
          const hash = tokenHash(req.tokenHash);
          return {
            revoked: await store.revokeRefreshToken(
              db,
              hash,
              now(),
              revocationExpiry(req.revocationExpiresAt),
            ),
          };
        },
        async listRevokedSessions(req) {
          const t = now();
          const rows = await store.listRevokedSessions(
            db,
            req.since ? timestampDate(req.since).getTime() : 0,
            t,
          );
          return {
            sessions: rows.map((r) => ({ sessionId: r.sessionId, expiresAt: timestampFromMs(r.expiresAt) })),
            now: timestampFromMs(t),
          };
        },

        async addFileWithContent(req) {
          const file = newFile(req.file);
          const b = req.blob;
          if (!b?.location || !b.backend)
            throw invalidArgument("blob.location and blob.backend are required");
          const completes = req.completes;
          if (completes && (!completes.sessionId || !completes.owner))
            throw invalidArgument("completes needs session_id and owner");
          try {
            const res = await content.addFileWithContent(
              db,
              file,
              {
                sha256: hex(b.sha256, 64, "blob.sha256"),
                // "" = not known yet (a modern upload; the upload worker backfills it).
                sha1: b.sha1 === "" ? "" : hex(b.sha1, 40, "blob.sha1"),
                size: size(b.size),
                backend: b.backend,
                location: b.location,
              },
              now(),
              {
                transfer: req.enqueueTransfer,
                within: completes
                  ? (tx, f) => uploads.completeWithin(tx, completes.sessionId, completes.owner, f.id)
                  : undefined,
              },
            );
            return { file: fileRecord(res.file), duplicateOf: res.duplicateOf ?? "" };
          } catch (err) {
            if (err instanceof content.BlobBusyError)
              throw aborted("this content is being deleted; store it again");
            if (err instanceof uploads.CompletionLostError) {
              throw failedPrecondition(
                "this completion stalled and another CompleteUploadSession took the upload over: call it again for the result",
              );
            }
            throw targetFolder(err);
          }
        },
        async addFileForExistingBlob(req) {
          try {
            return {
              file: fileRecord(
                await content.addFileForExistingBlob(
                  db,
                  newFile(req.file),
                  hex(req.sha256, 64, "sha256"),
                  now(),
                ),
              ),
            };
          } catch (err) {
            if (err instanceof content.BlobNotFoundError) throw notFound("no stored content has this hash");
            throw targetFolder(err);
          }
        },
        async getBlob(req) {
          const blob = await content.findBlob(db, hex(req.sha256, 64, "sha256"));
          if (!blob) throw notFound("no stored content has this hash");
          return { blob: blobRecord(blob) };
        },
        async findBlobBySha1(req) {
          const blob = await content.findBlobBySha1(db, hex(req.sha1, 40, "sha1"), req.ownerId || undefined);
          if (!blob) throw notFound("no stored content has this hash");
          return { blob: blobRecord(blob) };
        },
        async getFile(req) {
          const file = req.ownerId && req.id ? await content.findFile(db, req.ownerId, req.id) : undefined;
          if (!file) throw notFound("no such file or folder");
          return { file: fileRecord(file), sha1: file.sha1 };
        },
        async purgeFile(req) {
          if (!req.ownerId || !req.fileId) throw invalidArgument("owner_id and file_id are required");
          try {
            await content.purgeFile(db, req.ownerId, req.fileId, now());
          } catch (err) {
            if (err instanceof content.FileNotFoundError) throw notFound("no such file or folder");
            throw err;
          }
          return {};
        },
        async claimGarbage(req) {
          const blobs = await content.claimGarbage(
            db,
            now(),
            Number(req.graceMs),
            req.limit > 0 ? Math.min(req.limit, 1000) : 100,
            req.staleClaimMs > 0n ? Number(req.staleClaimMs) : content.STALE_CLAIM_MS,
          );
          return { blobs: blobs.map(blobRecord) };
        },
        async forgetBlob(req) {
          await content.forgetBlob(db, hex(req.sha256, 64, "sha256"), req.location || undefined);
          return {};
        },

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
                state: "open",
                file_id: null,
                created_at: now(),
                expires_at: timestampDate(s.expiresAt).getTime(),
              },
              {
                maxOpen: Math.max(0, req.maxOpenSessions),
                availableBytes: req.availableBytes === undefined ? undefined : Number(req.availableBytes),
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
          if (!p?.sessionId || p.partNumber < 1 || p.partNumber > uploads.MAX_PARTS) {
            throw invalidArgument(
              `session_id and a part_number between 1 and ${uploads.MAX_PARTS} are required`,
            );
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
          const rows = await uploads.expiredSessions(
            db,
            now(),
            req.limit > 0 ? Math.min(req.limit, 1000) : 100,
          );
          return { sessions: rows.map(sessionRecord) };
        },
        async deleteUploadSession(req) {
          await uploads.deleteSession(db, req.id);
          return {};
        },

        // --- file management ---
        async listFiles(req) {
          if (!req.ownerId) throw invalidArgument("owner_id is required");
          const sort = SORT_KEYS[req.sort];
          if (!sort) throw invalidArgument('sort must be "name", "size" or "updated_at"');
          const page = await fileOp(() =>
            files.listFiles(db, {
              ownerId: req.ownerId,
              parentId: req.parentId,
              allFolders: req.allFolders,
              sort,
              descending: req.descending,
              pageSize: req.pageSize,
              pageToken: req.pageToken,
              sha1: req.sha1 ? hex(req.sha1, 40, "sha1") : undefined,
            }),
          );
          return { files: page.files.map(fileRecord), nextPageToken: page.nextPageToken };
        },
        async createFolder(req) {
          if (!req.ownerId) throw invalidArgument("owner_id is required");
          const folder = await fileOp(() => files.createFolder(db, req, now(), maxDepth));
          return { folder: fileRecord(folder) };
        },
        async renameFile(req) {
          owned(req);
          return {
            file: fileRecord(await fileOp(() => files.renameFile(db, req.ownerId, req.id, req.name, now()))),
          };
        },
        async moveFile(req) {
          owned(req);
          const file = await fileOp(() =>
            files.moveFile(db, req.ownerId, req.id, req.newParentId, now(), maxDepth),
          );
          return { file: fileRecord(file) };
        },
        async trashFile(req) {
          owned(req);
          const res = await fileOp(() => files.trashFile(db, req.ownerId, req.id, now()));
          return { file: fileRecord(res.file), count: res.count };
        },
        async listTrash(req) {
          if (!req.ownerId) throw invalidArgument("owner_id is required");
          const page = await fileOp(() => files.listTrash(db, req));
          return { files: page.files.map(fileRecord), nextPageToken: page.nextPageToken };
        },
        async restoreFile(req) {
          owned(req);
          const file = await fileOp(
            () => files.restoreFile(db, req.ownerId, req.id, now(), maxDepth),
            (e) =>
              `an active entry named "${e.taken}" already exists ${e.parentId ? "in the folder this one returns to" : "in the root folder, where this one returns"}: rename or move that entry, then restore again`,
          );
          return { file: fileRecord(file) };
        },
        async purgeTrashedFile(req) {
          owned(req);
          const res = await fileOp(() => files.purgeTrashed(db, req.ownerId, req.id, now()));
          return { file: fileRecord(res.file), count: res.count };
        },
        async repairOrphans(req) {
          return repairOrphans(db, now(), req.limit > 0 ? Math.min(req.limit, 1000) : 100);
        },

        // transfer
        async listTransferJobsToPublish(req) {
          const jobs = await transfer.jobsToPublish(db, now(), Number(req.staleMs), pageLimit(req.limit));
          return { jobs: jobs.map(transferJobRecord) };
        },
        async markTransferJobsPublished(req) {
          for (const h of req.blobSha256s) hex(h, 64, "blob_sha256s");
          await transfer.markPublished(db, req.blobSha256s, now());
          return {};
        },
        async beginTransferAttempt(req) {
          if (!req.targetLocation || req.attempt < 1)
            throw invalidArgument("target_location and an attempt of 1 or more are required");
          const begin = await transfer.beginAttempt(
            db,
            hex(req.blobSha256, 64, "blob_sha256"),
            req.attempt,
            req.targetLocation,
            now(),
          );
          if (begin.action === "skip") return { skipReason: begin.reason };
          return {
            blob: blobRecord({ ...begin.blob, refcount: Number(begin.blob.refcount) }),
            previousTargetLocation: begin.previousTarget ?? "",
          };
        },
        async touchTransferAttempt(req) {
          await transfer.touchAttempt(db, hex(req.blobSha256, 64, "blob_sha256"), req.targetLocation, now());
          return {};
        },
        async switchBlobLocation(req) {
          if (!req.fromLocation || !req.toBackend || !req.toLocation || !req.deleteLocalAfter)
            throw invalidArgument(
              "from_location, to_backend, to_location and delete_local_after are required",
            );
          const outcome = await transfer.switchLocation(
            db,
            {
              sha256: hex(req.blobSha256, 64, "blob_sha256"),
              from: req.fromLocation,
              toBackend: req.toBackend,
              to: req.toLocation,
              cleanupAfter: timestampDate(req.deleteLocalAfter).getTime(),
            },
            now(),
          );
          return { outcome: switchOutcomes[outcome] };
        },
        async failTransferAttempt(req) {
          await transfer.failAttempt(
            db,
            {
              sha256: hex(req.blobSha256, 64, "blob_sha256"),
              attempt: req.attempt,
              error: req.error,
              dead: req.dead,
            },
            now(),
          );
          return {};
        },
        async getTransferJob(req) {
          const job = await transfer.getJob(db, hex(req.blobSha256, 64, "blob_sha256"));
          if (!job) throw notFound("this content has no transfer job");
          return { job: transferJobRecord(job) };
        },
        async listFailedTransferJobs(req) {
          const after = req.afterSha256 ? hex(req.afterSha256, 64, "after_sha256") : "";
          const jobs = await transfer.failedJobs(db, after, pageLimit(req.limit));
          return { jobs: jobs.map(transferJobRecord) };
        },
        async retryTransferJob(req) {
          const sha256 = hex(req.blobSha256, 64, "blob_sha256");
          if (!(await transfer.retryFailed(db, sha256, now()))) {
            const job = await transfer.getJob(db, sha256);
            if (!job) throw notFound("this content has no transfer job");
            throw failedPrecondition(`the transfer job is ${job.state}, not failed: nothing to retry`);
          }
          const job = await transfer.getJob(db, sha256);
          return { job: job && transferJobRecord(job) };
        },
        async enqueueLocalBlobs(req) {
          const after = req.afterSha256 ? hex(req.afterSha256, 64, "after_sha256") : "";
          const page = await transfer.enqueueLocalBlobs(db, after, pageLimit(req.limit), now());
          return { seen: page.seen, enqueued: page.enqueued, lastSha256: page.last };
        },
        async countTransferJobs() {
          const [counts, localBlobs] = await Promise.all([
            transfer.countJobs(db),
            transfer.countLocalBlobs(db),
          ]);
          return {
            localBlobs: BigInt(localBlobs),
            queued: BigInt(counts.queued),
            running: BigInt(counts.running),
            done: BigInt(counts.done),
            failed: BigInt(counts.failed),
          };
        },
        async listChangedTransferJobs(req) {
          const since = req.since ? timestampDate(req.since).getTime() : 0;
          const jobs = await transfer.changedSince(db, since, pageLimit(req.limit));
          return { jobs: jobs.map(transferJobRecord) };
        },
        async listDueTransferCleanups(req) {
          const due = await transfer.dueCleanups(db, now(), pageLimit(req.limit));
          return {
            cleanups: due.map((c) => ({ blobSha256: c.blob_sha256, location: c.cleanup_location ?? "" })),
          };
        },
        async finishTransferCleanup(req) {
          await transfer.finishCleanup(db, hex(req.blobSha256, 64, "blob_sha256"), req.location);
          return {};
        },

        // download links
        async getDownloadTarget(req) {
          let key: links.TargetKey;
          if (req.sha1) {
            if (!req.ownerId || req.fileId) throw invalidArgument("give owner_id and sha1, or a file_id");
            key = { ownerId: req.ownerId, sha1: hex(req.sha1, 40, "sha1") };
          } else {
            if (!req.fileId) throw invalidArgument("file_id (or owner_id and sha1) is required");
            key = { fileId: req.fileId, ownerId: req.ownerId || undefined };
          }
          const t = await links.getDownloadTarget(db, key);
          if (!t) throw notFound("no such file");
          return {
            file: fileRecord(t.file),
            blob: blobRecord(t.blob),
            linkGeneration: BigInt(t.linkGeneration),
          };
        },
        async revokeDownloadLinks(req) {
          if (!req.ownerId || !req.fileId) throw invalidArgument("owner_id and file_id are required");
          try {
            return {
              linkGeneration: BigInt(await links.revokeDownloadLinks(db, req.ownerId, req.fileId, now())),
            };
          } catch (err) {
            if (err instanceof content.FileNotFoundError) throw notFound("no such file");
            throw err;
          }
        },

        // sha1 backfill
        async setBlobSha1(req) {
          return {
            recorded: await content.setBlobSha1(db, hex(req.sha256, 64, "sha256"), hex(req.sha1, 40, "sha1")),
          };
        },
        async listBlobsWithoutSha1(req) {
          const after = req.afterSha256 ? hex(req.afterSha256, 64, "after_sha256") : "";
          const blobs = await content.blobsWithoutSha1(db, after, pageLimit(req.limit));
          return { blobs: blobs.map(blobRecord) };
        },
      });
    },
  };
}
