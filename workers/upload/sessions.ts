// Resumable multipart uploads. The server owns the session (random id bound to the user, part size chosen
// so that no upload needs more than 10 000 parts, expiry); parts may come in any order, in parallel and
// more than once; completion checks the exact part set and the whole file's size and hash before the file
// appears. Part bytes live in the blob store (locally on the upload workers, or straight in S3 through
// presigned URLs), so the blob store is the truth about which parts arrived: any replica can resume.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonError, withReason } from "../../core/reasons.ts";
import type { File } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import {
  TransitionUploadSessionRequest_Transition as T,
  type UploadSessionRecord,
} from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { normalizeStageOptions } from "../lib/blobstore/common.ts";
import { BlobHashMismatchError, BlobTooLargeError, InvalidArgumentError } from "../lib/blobstore/errors.ts";
import type { BlobBody } from "../lib/blobstore/types.ts";
import { failedPrecondition, invalidArgument, notFound, resourceExhausted } from "../lib/errors.ts";
import { failpoint } from "../lib/failpoint.ts";
import { publicFile } from "../lib/file-record.ts";
import { busyMessage, reopenAbandoned, TAKEN_OVER, takeCompletion } from "./completion-lease.ts";
import { blobError, checkTarget, linkStaged, type UploadDeps } from "./upload.ts";

export { createSession, type NewSessionRequest } from "./create-session.ts";

export interface SessionDeps extends UploadDeps {
  now: () => number;
  /** How long a session stays open (ms). */
  sessionTtlMs: number;
  /** The floor of the part sizes the server picks (bytes; default 8 MiB). Tests lower it. */
  minPartSize?: number;
  /** A user's sessions open or being completed at once (0 or absent: no limit). */
  maxOpenSessions?: number;
  /** A drop link's visitors' sessions open at once, per link (0 or absent: no limit). */
  maxOpenDropSessions?: number;
  /**
   * How long a completion may show no sign of life before another CompleteUploadSession takes it over
   * (ms; default 1 min). A running completion renews it every third of it.
   */
  completionLeaseMs?: number;
}

const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

/** The size of part n (1-based) of a session: all parts are part_size but the last. */
export function partSizeOf(s: { size: bigint; partSize: bigint; partCount: number }, n: number): number {
  const size = Number(s.size);
  const partSize = Number(s.partSize);
  return n < s.partCount ? partSize : size - partSize * (s.partCount - 1);
}

/** Where part n (1-based) starts in the whole file. */
export const partOffset = (s: { partSize: bigint }, n: number) => Number(s.partSize) * (n - 1);

/** The caller's session; someone else's (or an unknown id) is NotFound, with no hint which. */
export async function ownSession(deps: SessionDeps, who: Identity, id: string): Promise<UploadSessionRecord> {
  if (!SESSION_ID.test(id)) throw invalidArgument("not an upload session id");
  try {
    const { session } = await deps.meta.getUploadSession({ id, ownerId: who.userId });
    if (session) return session;
  } catch (err) {
    if (ConnectError.from(err).code !== Code.NotFound) throw err;
  }
  throw notFound("no such upload session");
}

function checkOpen(s: UploadSessionRecord, now: number): void {
  if (s.state === "completed") throw failedPrecondition("the upload session is already complete");
  if (s.state === "aborted") throw failedPrecondition("the upload session was aborted");
  if (s.expiresAt && Number(s.expiresAt.seconds) * 1000 <= now)
    throw failedPrecondition("the upload session expired");
}

export function checkPartInSession(s: UploadSessionRecord, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > s.partCount) {
    throw invalidArgument(`part numbers of this session run from 1 to ${s.partCount}`);
  }
}

/** A part that did not verify (reason PART_MISMATCH: the legacy routes answer it apart from bad requests). */
const partMismatch = (message: string) => reasonError(message, Code.InvalidArgument, Reason.PART_MISMATCH);

/** Stores one part (re-sending replaces it); its size must be exactly the part's size. */
export async function putPart(
  deps: SessionDeps,
  who: Identity,
  id: string,
  partNumber: number,
  body: BlobBody,
  check: { sha256?: string; sha1?: string } = {},
): Promise<{ size: number; sha256: string; sha1: string }> {
  const s = await ownSession(deps, who, id);
  checkOpen(s, deps.now());
  checkPartInSession(s, partNumber);
  if (s.state === "completing") await reopenAbandoned(deps, s);
  const expected = partSizeOf(s, partNumber);
  try {
    // The hashes to check the part with, as the store checks them first thing.
    normalizeStageOptions({ expectedSha256: check.sha256, expectedSha1: check.sha1 });
  } catch (err) {
    throw err instanceof InvalidArgumentError ? partMismatch(err.message) : err;
  }
  const info = await deps.blobs
    .putPart(id, partNumber, body, {
      maxBytes: expected,
      offset: partOffset(s, partNumber),
      expectedSha256: check.sha256,
      // Checked by the store before the part counts: a part that fails it is not listed afterwards.
      expectedSha1: check.sha1,
      skipSha1: !check.sha1,
      wholeSha1: Boolean(s.sha1),
    })
    .catch((err) => {
      deps.metrics?.part("rejected");
      if (err instanceof BlobHashMismatchError) deps.metrics?.hashMismatch();
      if (err instanceof BlobHashMismatchError)
        throw partMismatch(`part ${partNumber}'s ${err.algorithm} does not match: send it again`);
      // Longer than the part: ResourceExhausted as for any body over its limit, and a part that did not verify.
      if (err instanceof BlobTooLargeError)
        throw withReason(resourceExhausted(err.message), Reason.PART_MISMATCH);
      throw blobError(err);
    });
  if (info.size !== expected) {
    deps.metrics?.part("rejected");
    throw partMismatch(`part ${partNumber} must be ${expected} bytes, got ${info.size}: send it again`);
  }
  // A part's SHA-256 is known when the client sent one to check ("" otherwise: the whole file's is checked
  // at completion). Recorded either way, so that ListParts never reports the hash of an earlier copy.
  await deps.meta.recordUploadPart({
    part: { sessionId: id, partNumber, size: BigInt(info.size), sha256: info.sha256 },
  });
  deps.metrics?.part("received");
  return info;
}

export interface PartState {
  partNumber: number;
  size: number;
  sha256: string;
}

/** The parts received so far (from the blob store: parts sent straight to S3 count too). */
export async function listParts(
  deps: SessionDeps,
  who: Identity,
  id: string,
): Promise<{ session: UploadSessionRecord; parts: PartState[] }> {
  const session = await ownSession(deps, who, id);
  const [stored, recorded] = await Promise.all([
    deps.blobs.listParts(id),
    deps.meta.listUploadParts({ sessionId: id }),
  ]);
  const hashes = new Map(recorded.parts.map((p) => [p.partNumber, p]));
  const parts = stored.map((p) => {
    const r = hashes.get(p.partNumber);
    return { partNumber: p.partNumber, size: p.size, sha256: r && Number(r.size) === p.size ? r.sha256 : "" };
  });
  return { session, parts };
}

/** The session's exact part set: FailedPrecondition naming what is missing or wrong. */
async function checkParts(deps: SessionDeps, s: UploadSessionRecord): Promise<void> {
  const stored = new Map((await deps.blobs.listParts(s.id)).map((p) => [p.partNumber, p.size]));
  const missing: number[] = [];
  const wrong: string[] = [];
  for (let n = 1; n <= s.partCount; n++) {
    const size = stored.get(n);
    if (size === undefined) missing.push(n);
    else if (size !== partSizeOf(s, n)) wrong.push(`part ${n} has ${size} bytes, not ${partSizeOf(s, n)}`);
  }
  const extra = [...stored.keys()].filter((n) => n > s.partCount);
  if (missing.length > 0) {
    throw failedPrecondition(
      `missing parts: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}`,
    );
  }
  if (wrong.length > 0 || extra.length > 0) {
    throw failedPrecondition([...wrong, ...extra.map((n) => `part ${n} is beyond the last part`)].join("; "));
  }
}

/**
 * Completes a session: exact part set, whole size and hash verified, then the file appears, in the folder
 * given at creation or `to.parentId`. Idempotent, and a completion whose process died is taken over once
 * its lease runs out (completion-lease.ts). The failpoints are test-only crash points (lib/failpoint.ts).
 */
export async function completeSession(
  deps: SessionDeps,
  who: Identity,
  id: string,
  to: { name?: string; parentId?: string } = {},
): Promise<File> {
  const s = await ownSession(deps, who, id);
  const target = checkTarget({
    name: to.name || s.name,
    parentId: to.parentId ?? s.parentId,
    onConflict: s.onConflict,
  });
  if (s.state === "completed") return completedFile(deps, who, s);
  checkOpen(s, deps.now());
  const lease = await takeCompletion(deps, id);
  if (!lease) {
    const again = await ownSession(deps, who, id);
    if (again.state === "completed") return completedFile(deps, who, again);
    checkOpen(again, deps.now());
    if (again.state === "completing") throw failedPrecondition(busyMessage(deps, again));
    throw failedPrecondition("the upload session changed meanwhile: complete it again");
  }
  failpoint("upload.complete.begun");
  try {
    if (lease.previousOwner) await deps.blobs.discardAssembly(id, lease.previousOwner).catch(blobFailure);
    await checkParts(deps, s);
    // A session that announced a SHA-1 (the legacy multipart routes) gets it checked, and so computed now;
    // other sessions leave it to the backfill.
    const assembling = deps.blobs.assembleParts(id, s.partCount, { skipSha1: !s.sha1, attempt: lease.owner });
    failpoint("upload.complete.assembling");
    const staged = await assembling.catch(blobFailure);
    failpoint("upload.complete.assembled");
    const mismatch =
      staged.size !== Number(s.size)
        ? `the parts add up to ${staged.size} bytes, not ${s.size}`
        : s.sha256 && staged.sha256 !== s.sha256
          ? "the whole file's SHA-256 does not match the one announced"
          : s.sha1 && staged.sha1 !== s.sha1
            ? "the whole file's SHA-1 does not match the one announced"
            : undefined;
    if (mismatch || lease.lost()) {
      await staged.discard();
      if (mismatch) deps.metrics?.hashMismatch();
      if (mismatch) throw invalidArgument(`${mismatch}: re-send the parts that changed, then complete again`);
      throw failedPrecondition(TAKEN_OVER);
    }
    // The file and the completed session are recorded together, and only while this attempt holds it.
    const file = await linkStaged(deps, who, target, staged, { sessionId: id, owner: lease.owner });
    failpoint("upload.complete.recorded");
    await deps.blobs.deleteParts(id).catch(() => undefined); // a repeated CompleteUploadSession retries
    deps.metrics?.session("completed");
    return publicFile(file, staged.sha1);
  } catch (err) {
    await deps.meta
      .transitionUploadSession({ id, transition: T.REOPEN, owner: lease.owner })
      .catch(() => undefined);
    throw err;
  } finally {
    lease.release();
  }
}

const blobFailure = (err: unknown): never => {
  throw blobError(err);
};

async function completedFile(deps: SessionDeps, who: Identity, s: UploadSessionRecord): Promise<File> {
  // The parts outlive the completion when its process died right after recording the file.
  await deps.blobs.deleteParts(s.id).catch(() => undefined);
  const { file, sha1 } = await deps.meta.getFile({ ownerId: who.userId, id: s.fileId });
  if (!file) throw notFound("the file of this upload no longer exists");
  return publicFile(file, sha1);
}

/**
 * Ends a session that never completed (aborted, or expired): once it is "aborted" no completion can
 * record its file any more, so what a completion attempt left is discarded with the parts. False when it
 * completed meanwhile (its parts went with the completion).
 */
async function dropSession(
  deps: Pick<SessionDeps, "meta" | "blobs">,
  s: UploadSessionRecord,
): Promise<boolean> {
  let ended = s;
  if (s.state !== "aborted") {
    await deps.meta.transitionUploadSession({ id: s.id, transition: T.ABORT });
    // As it is now: aborted (keeping the attempt that held it last, if any), or completed meanwhile.
    const { session } = await deps.meta.getUploadSession({ id: s.id, ownerId: s.ownerId });
    if (session?.state !== "aborted") return false;
    ended = session;
  }
  if (ended.completionOwner) await deps.blobs.discardAssembly(s.id, ended.completionOwner).catch(blobFailure);
  await deps.blobs.deleteParts(s.id);
  return true;
}

export async function abortSession(deps: SessionDeps, who: Identity, id: string): Promise<void> {
  const s = await ownSession(deps, who, id);
  if (s.state === "completed") throw failedPrecondition("the upload session is already complete");
  if (!(await dropSession(deps, s))) throw failedPrecondition("the upload session is already complete");
  deps.metrics?.session("aborted");
}

/** What sweeping sessions needs: the upload worker's sweeper, and the consistency checker's repair. */
export type SweepDeps = Pick<SessionDeps, "meta" | "blobs" | "metrics">;

/**
 * Removes one expired or aborted session with its parts (and its reservation, by aborting it first); false
 * when it completed meanwhile (then it is kept).
 */
export async function sweepSession(deps: SweepDeps, s: UploadSessionRecord): Promise<boolean> {
  const dropped = await dropSession(deps, s);
  if (dropped) await deps.meta.deleteUploadSession({ id: s.id });
  // Aborted ones were counted when aborted.
  if (s.state !== "aborted") deps.metrics?.session("expired");
  return dropped;
}

/** Removes expired and aborted sessions with their parts; returns how many went. */
export async function sweepSessions(deps: SweepDeps): Promise<number> {
  const { sessions } = await deps.meta.listExpiredUploadSessions({ limit: 100 });
  for (const s of sessions) await sweepSession(deps, s);
  return sessions.length;
}
