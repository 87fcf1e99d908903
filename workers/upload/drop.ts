// Uploads into a drop share link (issue 18): PUT /upload/v1/drop/<share id>?name=N, the share token in
// X-Share-Token, no login. The file lands in the link's folder as its owner's (the owner's quota), under a
// free name (RENAME: "N (2).ext", never overwriting), at most the link's max_file_bytes; the answer tells
// the uploader the name and size of their own upload and nothing of the folder.
import { Code } from "@connectrpc/connect";
import { ANNOUNCED_LENGTH_HEADER, SHARE_TOKEN_HEADER } from "../../core/data-paths.ts";
import { Reason, reasonError } from "../../core/reasons.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { ShareRecord } from "../../proto/gen/filestore/meta/v1/shares_pb.ts";
import { freeingChunks } from "../lib/blobstore/common.ts";
import { invalidArgument } from "../lib/errors.ts";
import type { ShareMetrics } from "../lib/metrics/shares.ts";
import { verifyShareToken } from "../lib/share-token.ts";
import { storeUpload, type UploadDeps } from "./upload.ts";

/** PUT <DROP_PATH><share id>. */
export const DROP_ROUTE = /^\/upload\/v1\/drop\/([A-Za-z0-9_-]{22,64})$/;

export interface DropDeps extends UploadDeps {
  /** Checks share tokens (workers/lib/share-token.ts); without it drop uploads are refused. */
  shareTokenKey?: Uint8Array;
  now: () => number;
  /** Drop uploads by result (workers/lib/metrics/shares.ts); none in most tests. */
  shareMetrics?: ShareMetrics;
}

const noSuchShare = () =>
  reasonError("no share link answers here; open the link again", Code.NotFound, Reason.SHARE_NOT_FOUND);

/**
 * The drop link the token names, as it is now (live, the token's version, drop mode): checked on every
 * request, single PUT and each call of a drop session alike (drop-sessions.ts, which gives a token
 * `graceMs` past its expiry on the calls of an existing session).
 */
export async function dropShare(
  deps: DropDeps,
  shareId: string,
  token: string,
  graceMs = 0,
): Promise<ShareRecord> {
  const claims =
    deps.shareTokenKey && (await verifyShareToken(deps.shareTokenKey, token, deps.now(), graceMs));
  if (!claims || claims.shareId !== shareId)
    throw reasonError(
      "this share session has ended; open the link again",
      Code.Unauthenticated,
      Reason.SHARE_TOKEN_INVALID,
    );
  const share = await deps.meta.getLiveShare({ id: shareId }).then(
    (r) => r.share,
    () => undefined,
  );
  if (!share) throw noSuchShare();
  if (Number(share.version) !== claims.version)
    throw reasonError(
      "this share session has ended; open the link again",
      Code.Unauthenticated,
      Reason.SHARE_TOKEN_INVALID,
    );
  if (share.mode !== "drop") throw invalidArgument("this link does not take uploads");
  return share;
}

/** The 413 answer when `size` is over the link's max_file_bytes (checked before a byte is stored). */
export function overCap(share: ShareRecord, size: number): Response | undefined {
  const cap = Number(share.maxFileBytes);
  if (cap > 0 && size > cap)
    return Response.json(
      { code: "resource_exhausted", message: `this link takes files of at most ${cap} bytes` },
      { status: 413 },
    );
  return undefined;
}

/** Whom a drop upload is stored as: the link's owner (their folder, their quota). */
export const ownerOf = (share: ShareRecord) => ({ userId: share.ownerId, username: share.ownerName, exp: 0 });

export async function dropFile(deps: DropDeps, req: Request, url: URL, shareId: string): Promise<Response> {
  try {
    const res = await dropInto(deps, req, url, shareId);
    // A stored upload counts itself, with its bytes (dropInto).
    if (!res.ok) deps.shareMetrics?.dropped(res.status === 413 ? "too_large" : "refused");
    return res;
  } catch (err) {
    deps.shareMetrics?.dropped("refused");
    throw err;
  }
}

async function dropInto(deps: DropDeps, req: Request, url: URL, shareId: string): Promise<Response> {
  const share = await dropShare(deps, shareId, req.headers.get(SHARE_TOKEN_HEADER) ?? "");
  const length = req.headers.get("content-length") ?? req.headers.get(ANNOUNCED_LENGTH_HEADER);
  // The cap is checked before a byte is read, so the size must be announced (and storeUpload holds the
  // body to it).
  if (length === null || !/^[0-9]{1,16}$/.test(length))
    return Response.json(
      { code: "invalid_argument", message: "send the file's size (Content-Length)" },
      { status: 411 },
    );
  const size = Number(length);
  const over = overCap(share, size);
  if (over) return over;
  const file = await storeUpload(
    deps,
    ownerOf(share),
    {
      name: url.searchParams.get("name") ?? "",
      parentId: share.targetId,
      onConflict: ConflictPolicy.RENAME,
      expectedSize: size,
      expectedSha256: req.headers.get("x-content-sha256") ?? undefined,
    },
    freeingChunks(req.body ?? new Blob([]).stream()),
  );
  deps.shareMetrics?.dropped("ok", Number(file.size));
  return Response.json({ file: { name: file.name, size: String(file.size) } }, { status: 201 });
}
