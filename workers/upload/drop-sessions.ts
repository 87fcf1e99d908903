// Multipart sessions into a drop share link (issue 18): a guest's large file goes through the same upload
// sessions as a signed-in user's (sessions.ts: parts in any order, in parallel, resumable, verified at
// completion), reached through the drop route family with the share token instead of a login:
//   POST   <DROP_PATH><share>/sessions                 {"name","size"[,"sha256","partSize"]} → 201 {"sessionId","key",
//                                                       "partSize","partCount","partUrl","expiresAt"}
//   PUT    <DROP_PATH><share>/sessions/<id>/parts/<n>  part n (X-Content-SHA256 optional)
//   GET    <DROP_PATH><share>/sessions/<id>            the parts received (to resume)
//   POST   <DROP_PATH><share>/sessions/<id>/complete   → 201 {"file":{"name","size"}}
//   DELETE <DROP_PATH><share>/sessions/<id>            abort: the parts and the quota reservation go
// Every call carries X-Share-Token, and the link is checked again each time (dropShare): a revoked,
// expired, edited or no longer drop link stops an upload at its next part. A large upload outlasts the
// token's short life: a session's own calls take the token that long past its expiry. The session is the owner's (in
// the link's folder, reserving the owner's quota, RENAME on a taken name, never REPLACE) and is bound to
// the guest who created it by X-Drop-Session-Key: an HMAC of the link's and the session's ids under the
// share-token key, handed out once at creation. Without it (another visitor of the link, a visitor of
// another link) a session answers exactly like an unknown one. No presigned part URLs are handed out: a
// part sent straight to the bucket would pass by the link check.
import { createHmac, timingSafeEqual } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { DROP_PATH, DROP_SESSION_KEY_HEADER, SHARE_TOKEN_HEADER } from "../../core/data-paths.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { ShareRecord } from "../../proto/gen/filestore/meta/v1/shares_pb.ts";
import { freeingChunks } from "../lib/blobstore/common.ts";
import { invalidArgument, notFound } from "../lib/errors.ts";
import { partNumberOf } from "./data-plane.ts";
import { type DropDeps, dropShare, overCap, ownerOf } from "./drop.ts";
import type { SessionDeps } from "./sessions.ts";
import * as sessions from "./sessions.ts";

/** <DROP_PATH><share>/sessions[/<id>[/complete | /parts/<n>]]. */
export const DROP_SESSION_ROUTE =
  /^\/upload\/v1\/drop\/([A-Za-z0-9_-]{22,64})\/sessions(?:\/([A-Za-z0-9_-]{32})(?:\/(complete)|\/parts\/([^/]+))?)?$/;

export type DropSessionDeps = DropDeps & SessionDeps;

const MAX_REQUEST_BYTES = 4096;

/** The session's key for the guest: only the server can make it, and only for this link and session. */
function keyOf(deps: DropDeps, shareId: string, sessionId: string): string {
  if (!deps.shareTokenKey) throw notFound("no such upload session");
  return createHmac("sha256", deps.shareTokenKey)
    .update(`filestore/drop-session/v1\n${shareId}\n${sessionId}`)
    .digest("base64url");
}

/** The guest's own session of this link, else NotFound as for an unknown id. */
async function guestSession(deps: DropSessionDeps, share: ShareRecord, id: string, key: string) {
  const expected = Buffer.from(keyOf(deps, share.id, id));
  const given = Buffer.from(key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw notFound("no such upload session");
  const s = await sessions.ownSession(deps, ownerOf(share), id);
  // Only a session made through this link (the key says so already; checked all the same).
  if (s.shareId !== share.id || s.parentId !== share.targetId) throw notFound("no such upload session");
  return s;
}

/** The creation request's fields (a small JSON object). */
async function readCreation(
  req: Request,
): Promise<{ name: string; size: number; sha256?: string; partSize?: number }> {
  const text = await req.text();
  if (text.length > MAX_REQUEST_BYTES) throw invalidArgument("the request is too long");
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidArgument('send JSON: {"name": …, "size": …}');
  }
  const size = typeof body.size === "number" ? String(body.size) : body.size;
  if (typeof size !== "string" || !/^[0-9]{1,16}$/.test(size))
    throw invalidArgument("size must be the file's size in bytes");
  if (typeof body.name !== "string") throw invalidArgument("name must be the file's name");
  if (body.sha256 !== undefined && typeof body.sha256 !== "string")
    throw invalidArgument("sha256 must be 64 hexadecimal digits");
  const partSize = body.partSize === undefined ? undefined : Number(body.partSize);
  if (partSize !== undefined && !Number.isSafeInteger(partSize))
    throw invalidArgument("partSize must be a number of bytes");
  return { name: body.name, size: Number(size), sha256: body.sha256 as string | undefined, partSize };
}

async function create(deps: DropSessionDeps, req: Request, share: ShareRecord): Promise<Response> {
  const wanted = await readCreation(req);
  // The link's cap, from the announced size: before any byte (completion holds the parts to that size).
  const over = overCap(share, wanted.size);
  if (over) {
    deps.shareMetrics?.dropped("too_large");
    return over;
  }
  // Never resumed by content (that would find another visitor's session); the link's own cap applies.
  const s = await sessions.createSession(deps, ownerOf(share), {
    shareId: share.id,
    name: wanted.name,
    parentId: share.targetId,
    size: BigInt(wanted.size),
    sha256: wanted.sha256,
    partSize: wanted.partSize === undefined ? undefined : BigInt(wanted.partSize),
    onConflict: ConflictPolicy.RENAME,
  });
  return Response.json(
    {
      sessionId: s.id,
      key: keyOf(deps, share.id, s.id),
      partSize: String(s.partSize),
      partCount: s.partCount,
      partUrl: `${DROP_PATH}${share.id}/sessions/${s.id}/parts/`,
      expiresAt: s.expiresAt ? new Date(timestampMs(s.expiresAt)).toISOString() : undefined,
    },
    { status: 201 },
  );
}

/** One request of the drop session routes; `m` is DROP_SESSION_ROUTE's match. */
export async function dropSessionCall(
  deps: DropSessionDeps,
  req: Request,
  m: RegExpExecArray,
): Promise<Response> {
  const [, shareId = "", id, complete, part] = m;
  const method = req.method;
  const known =
    id === undefined
      ? method === "POST"
      : complete
        ? method === "POST"
        : part !== undefined
          ? method === "PUT"
          : method === "GET" || method === "DELETE";
  if (!known)
    return Response.json({ code: "unimplemented", message: "method not allowed here" }, { status: 405 });
  // A session outlives the share token (minutes) that created it: on its calls the token counts for the
  // session's life past its expiry; the link (live, the token's version) and the key are checked anyway.
  const grace = id === undefined ? 0 : deps.sessionTtlMs;
  const share = await dropShare(deps, shareId, req.headers.get(SHARE_TOKEN_HEADER) ?? "", grace);
  if (id === undefined) return create(deps, req, share);
  const s = await guestSession(deps, share, id, req.headers.get(DROP_SESSION_KEY_HEADER) ?? "");
  const owner = ownerOf(share);
  if (part !== undefined) {
    const n = partNumberOf(part);
    const info = await sessions.putPart(
      deps,
      owner,
      s.id,
      n,
      freeingChunks(req.body ?? new Blob([]).stream()),
      {
        sha256: req.headers.get("x-content-sha256") ?? undefined,
      },
    );
    return Response.json({ partNumber: n, size: String(info.size), sha256: info.sha256 });
  }
  if (complete) {
    // Where it goes is the link's: no other name or folder than the one given at creation.
    const file = await sessions.completeSession(deps, owner, s.id);
    deps.shareMetrics?.dropped("ok", Number(file.size));
    return Response.json({ file: { name: file.name, size: String(file.size) } }, { status: 201 });
  }
  if (method === "DELETE") {
    await sessions.abortSession(deps, owner, s.id);
    return new Response(null, { status: 204 });
  }
  const { parts } = await sessions.listParts(deps, owner, s.id);
  return Response.json({
    partSize: String(s.partSize),
    partCount: s.partCount,
    parts: parts.map((p) => ({ partNumber: p.partNumber, size: String(p.size), sha256: p.sha256 })),
  });
}
