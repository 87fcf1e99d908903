// CreateUploadSession: checks the request, resumes the caller's session for the same content when asked,
// and otherwise records a new one — in the caller's own folder, within the per-user cap of open sessions
// and the free space of the disk the parts go to (both checked by meta in the same transaction).
import { randomBytes } from "node:crypto";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import {
  CreateUploadSessionResponse_Refusal as Refusal,
  type UploadSessionRecord,
} from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { hasFreeSpace } from "../lib/blobstore/types.ts";
import { invalidArgument } from "../lib/errors.ts";
import { isHex } from "../lib/validate.ts";
import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, partCountFor, partSizeFor } from "../meta/part-sizes.ts";
import type { SessionDeps } from "./sessions.ts";
import { checkTarget } from "./upload.ts";

export interface NewSessionRequest {
  name: string;
  parentId: string;
  size: bigint;
  sha256?: string;
  sha1?: string;
  resume?: boolean;
  /** The part size the client wants (0 or absent: the server picks). */
  partSize?: bigint;
  /** Applied when the session completes (UNSPECIFIED: FAIL). */
  onConflict?: ConflictPolicy;
  /** Set for a drop link's visitor: the session counts toward that link's cap, not the owner's. */
  shareId?: string;
}

/**
 * The error when a limit refuses a session: ResourceExhausted with the reason (507 on tus, a JSON code on
 * legacy).
 */
export function refusalError(refused: Refusal, deps: SessionDeps, viaLink = false): ConnectError {
  const reason = refused === Refusal.TOO_MANY_OPEN_SESSIONS ? Reason.TOO_MANY_UPLOADS : Reason.STORAGE_FULL;
  return reasonError(refusalMessage(refused, deps, viaLink), Code.ResourceExhausted, reason);
}

/** The message of a refusal: which limit, and what to do about it. */
function refusalMessage(refused: Refusal, deps: SessionDeps, viaLink: boolean): string {
  if (refused === Refusal.TOO_MANY_OPEN_SESSIONS && viaLink) {
    return (
      `this link has ${deps.maxOpenDropSessions} uploads in progress, the most allowed per link ` +
      "(SHARE_DROP_MAX_OPEN_SESSIONS): wait until some finish, then try again"
    );
  }
  if (refused === Refusal.TOO_MANY_OPEN_SESSIONS) {
    return (
      `you have ${deps.maxOpenSessions} upload sessions open, the most allowed per user ` +
      "(UPLOAD_MAX_OPEN_SESSIONS_PER_USER): complete or abort some (or resume one with resume: true) " +
      "before starting another"
    );
  }
  return (
    "the server's storage is full: this upload does not fit in the space left beside the uploads in " +
    "progress; try again later, or ask the operator to free space"
  );
}

export async function createSession(
  deps: SessionDeps,
  who: Identity,
  req: NewSessionRequest,
): Promise<UploadSessionRecord & { resumed?: boolean }> {
  const { name, parentId, onConflict } = checkTarget(req);
  if (req.size < 0n || req.size > BigInt(deps.maxUploadBytes)) {
    throw invalidArgument(`size must be between 0 and ${deps.maxUploadBytes} bytes`);
  }
  const sha256 = (req.sha256 ?? "").toLowerCase();
  const sha1 = (req.sha1 ?? "").toLowerCase();
  if (sha256 && !isHex(sha256, 64)) throw invalidArgument("sha256 must be 64 hexadecimal digits");
  if (sha1 && !isHex(sha1, 40)) throw invalidArgument("sha1 must be 40 hexadecimal digits");
  if (req.resume && !req.shareId) {
    const { session } = await deps.meta.findOpenUploadSession({
      ownerId: who.userId,
      size: req.size,
      sha256,
      sha1,
    });
    if (session) {
      deps.metrics?.session("resumed");
      return { ...session, resumed: true };
    }
  }
  const size = Number(req.size);
  const requested = Number(req.partSize ?? 0n);
  if (requested !== 0 && (requested < MIN_PART_SIZE || requested > MAX_PART_SIZE)) {
    throw invalidArgument(`part_size must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes, or 0`);
  }
  const partSize = partSizeFor(size, { requested: requested || undefined, min: deps.minPartSize });
  const partCount = partCountFor(size, partSize);
  if (partCount > MAX_PARTS) throw invalidArgument("the file is too large for 10 000 parts");
  const available = hasFreeSpace(deps.blobs) ? await deps.blobs.availableBytes() : undefined;
  const { session, refused } = await deps.meta.createUploadSession({
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
      onConflict,
      shareId: req.shareId ?? "",
    },
    maxOpenSessions: (req.shareId ? deps.maxOpenDropSessions : deps.maxOpenSessions) ?? 0,
    availableBytes: available === undefined ? undefined : BigInt(Math.floor(available)),
  });
  if (refused) throw refusalError(refused, deps, Boolean(req.shareId));
  if (!session) throw new ConnectError("meta returned no session", Code.Internal);
  deps.metrics?.session("created");
  return session;
}
