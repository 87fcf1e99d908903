// UploadService.CreateUploadSession's answer: the session (new or resumed), where its parts go, and
// presigned part URLs when the landing store sends clients straight to the bucket.
import type { Identity } from "../../core/access-token.ts";
import { SESSIONS_PATH } from "../../core/data-paths.ts";
import { canPresign } from "../lib/blobstore/types.ts";
import { createSession, type NewSessionRequest, type SessionDeps } from "./sessions.ts";

export async function openSession(deps: SessionDeps, who: Identity, req: NewSessionRequest) {
  const s = await createSession(deps, who, req);
  const presign = canPresign(deps.blobs) ? deps.blobs.presignPart.bind(deps.blobs) : undefined;
  const ttl = Math.max(60, Math.floor(deps.sessionTtlMs / 1000));
  return {
    resumed: s.resumed ?? false,
    sessionId: s.id,
    partSize: s.partSize,
    partCount: s.partCount,
    expiresAt: s.expiresAt,
    partUrl: `${SESSIONS_PATH}/${s.id}/parts/`,
    presignedParts: presign
      ? await Promise.all(
          Array.from({ length: s.partCount }, async (_, i) => ({
            partNumber: i + 1,
            url: await presign(s.id, i + 1, ttl),
          })),
        )
      : [],
  };
}
