// Resumable multipart uploads. The server owns the session (random id bound to the user, part size chosen
// so that no upload needs more than 10 000 parts, expiry); parts may come in any order, in parallel and
// more than once; completion checks the exact part set and the whole file's size and hash before the file
// appears. Part bytes live in the blob store (locally on the upload workers, or straight in S3 through
// presigned URLs), so the blob store is the truth about which parts arrived: any replica can resume.
import { randomBytes } from "node:crypto";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { File } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import {
  TransitionUploadSessionRequest_Transition as T,
  type UploadSessionRecord,
} from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { Identity } from "../lib/access-token.ts";
import { BlobHashMismatchError } from "../lib/blobstore/errors.ts";
import type { BlobBody } from "../lib/blobstore/types.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, partCountFor, partSizeFor } from "../meta/uploads.ts";
import { blobError, checkTarget, linkStaged, type UploadDeps } from "./upload.ts";

export interface SessionDeps extends UploadDeps {
  now: () => number;
  /** How long a session stays open (ms). */
  sessionTtlMs: number;
  /** The floor of the part sizes the server picks (bytes; default 8 MiB). Tests lower it. */
  minPartSize?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

/** The size of part n (1-based) of a session: all parts are part_size but the last. */
export function partSizeOf(s: { size: bigint; partSize: bigint; partCount: number }, n: number): number {
  const size = Number(s.size);
  const partSize = Number(s.partSize);
  return n < s.partCount ? partSize : size - partSize * (s.partCount - 1);
}

/** Where part n (1-based) starts in the whole file. */
export const partOffset = (s: { partSize: bigint }, n: number) => Number(s.partSize) * (n - 1);

export async function createSession(
  deps: SessionDeps,
  who: Identity,
  req: {
    name: string;
    parentId: string;
    size: bigint;
    sha256?: string;
    sha1?: string;
    resume?: boolean;
    /** The part size the client wants (0 or absent: the server picks). */
    partSize?: bigint;
  },
): Promise<UploadSessionRecord & { resumed?: boolean }> {
  const { name, parentId } = checkTarget({ name: req.name, parentId: req.parentId });
  if (req.size < 0n || req.size > BigInt(deps.maxUploadBytes)) {
    throw invalidArgument(`size must be between 0 and ${deps.maxUploadBytes} bytes`);
  }
  const sha256 = (req.sha256 ?? "").toLowerCase();
  const sha1 = (req.sha1 ?? "").toLowerCase();
  if (sha256 && !HEX64.test(sha256)) throw invalidArgument("sha256 must be 64 hexadecimal digits");
  if (sha1 && !HEX40.test(sha1)) throw invalidArgument("sha1 must be 40 hexadecimal digits");
  if (req.resume) {
    const { session } = await deps.meta.findOpenUploadSession({
      ownerId: who.userId,
      size: req.size,
      sha256,
      sha1,
    });
    if (session) return { ...session, resumed: true };
  }
  const size = Number(req.size);
  const requested = Number(req.partSize ?? 0n);
  if (requested !== 0 && (requested < MIN_PART_SIZE || requested > MAX_PART_SIZE)) {
    throw invalidArgument(`part_size must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes, or 0`);
  }
  const partSize = partSizeFor(size, { requested: requested || undefined, min: deps.minPartSize });
  const partCount = partCountFor(size, partSize);
  if (partCount > MAX_PARTS) throw invalidArgument("the file is too large for 10 000 parts");
  const { session } = await deps.meta.createUploadSession({
    session: {
      id: randomBytes(24).toString("base64url"),
      ownerId: who.userId,
      parentId,
      name,
      size: req.size,
      sha256,
      sha1,
      partSize: BigInt(partSize),
      partCount,
      backend: deps.blobs.backend,
      expiresAt: timestampFromMs(deps.now() + deps.sessionTtlMs),
    },
  });
  if (!session) throw new ConnectError("meta returned no session", Code.Internal);
  return session;
}

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
  const expected = partSizeOf(s, partNumber);
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
      if (err instanceof BlobHashMismatchError)
        throw invalidArgument(`part ${partNumber}'s ${err.algorithm} does not match: send it again`);
      throw blobError(err);
    });
  if (info.size !== expected) {
    throw invalidArgument(`part ${partNumber} must be ${expected} bytes, got ${info.size}: send it again`);
  }
  // A part's SHA-256 is known when the client sent one to check ("" otherwise: the whole file's is checked
  // at completion). Recorded either way, so that ListParts never reports the hash of an earlier copy.
  await deps.meta.recordUploadPart({
    part: { sessionId: id, partNumber, size: BigInt(info.size), sha256: info.sha256 },
  });
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

/** Completes a session: exact part set, whole size and hash verified, then the file appears. Idempotent. */
export async function completeSession(
  deps: SessionDeps,
  who: Identity,
  id: string,
  name?: string,
): Promise<File> {
  const s = await ownSession(deps, who, id);
  const target = checkTarget({ name: name || s.name, parentId: s.parentId });
  if (s.state === "completed") return completedFile(deps, who, s);
  checkOpen(s, deps.now());
  const { done } = await deps.meta.transitionUploadSession({ id, transition: T.BEGIN_COMPLETION });
  if (!done) {
    const again = await ownSession(deps, who, id);
    if (again.state === "completed") return completedFile(deps, who, again);
    throw failedPrecondition("the upload session is being completed or is no longer open");
  }
  const reopen = async () => {
    await deps.meta.transitionUploadSession({ id, transition: T.REOPEN });
  };
  try {
    const stored = new Map((await deps.blobs.listParts(id)).map((p) => [p.partNumber, p.size]));
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
      throw failedPrecondition(
        [...wrong, ...extra.map((n) => `part ${n} is beyond the last part`)].join("; "),
      );
    }
    // A session that announced a SHA-1 (the legacy multipart routes) gets it checked, and so computed now;
    // other sessions leave it to the backfill.
    const staged = await deps.blobs.assembleParts(id, s.partCount, { skipSha1: !s.sha1 }).catch((err) => {
      throw blobError(err);
    });
    const mismatch =
      staged.size !== Number(s.size)
        ? `the parts add up to ${staged.size} bytes, not ${s.size}`
        : s.sha256 && staged.sha256 !== s.sha256
          ? "the whole file's SHA-256 does not match the one announced"
          : s.sha1 && staged.sha1 !== s.sha1
            ? "the whole file's SHA-1 does not match the one announced"
            : undefined;
    if (mismatch) {
      await staged.discard();
      throw invalidArgument(`${mismatch}: re-send the parts that changed, then complete again`);
    }
    const file = await linkStaged(deps, who, target, staged);
    await deps.meta.transitionUploadSession({ id, transition: T.COMPLETE, fileId: file.id });
    await deps.blobs.deleteParts(id).catch(() => undefined); // the sweeper retries
    return publicFile(file, staged.sha1);
  } catch (err) {
    await reopen().catch(() => undefined);
    throw err;
  }
}

async function completedFile(deps: SessionDeps, who: Identity, s: UploadSessionRecord): Promise<File> {
  const { file, sha1 } = await deps.meta.getFile({ ownerId: who.userId, id: s.fileId });
  if (!file) throw notFound("the file of this upload no longer exists");
  return publicFile(file, sha1);
}

export async function abortSession(deps: SessionDeps, who: Identity, id: string): Promise<void> {
  const s = await ownSession(deps, who, id);
  if (s.state === "completed") throw failedPrecondition("the upload session is already complete");
  await deps.meta.transitionUploadSession({ id, transition: T.ABORT });
  await deps.blobs.deleteParts(id);
}

/** Removes expired and aborted sessions with their parts; returns how many went. */
export async function sweepSessions(deps: SessionDeps): Promise<number> {
  const { sessions } = await deps.meta.listExpiredUploadSessions({ limit: 100 });
  for (const s of sessions) {
    await deps.blobs.deleteParts(s.id);
    await deps.meta.deleteUploadSession({ id: s.id });
  }
  return sessions.length;
}
