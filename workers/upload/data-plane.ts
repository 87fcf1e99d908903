// The upload data plane's requests as logic calls: a file as a request body (PUT|POST /upload/v1/files),
// a part of a multipart session (PUT /upload/v1/sessions/<id>/parts/<n>), and a form
// (POST /upload/v1/form). Bytes never travel in RPCs: this is where they arrive over HTTP.
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import { tokenOf } from "../../core/access-token.ts";
import { ANNOUNCED_LENGTH_HEADER } from "../../core/data-paths.ts";
import { boundaryOf, MultipartError, readMultipart } from "../../core/multipart.ts";
import type { FileRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { freeingChunks } from "../lib/blobstore/common.ts";
import { invalidArgument, unauthenticated } from "../lib/errors.ts";
import { identify, verifyToken } from "../lib/http-auth.ts";
import type { SessionDeps } from "./sessions.ts";
import * as sessions from "./sessions.ts";
import { conflictParam, storeUpload, type UploadDeps } from "./upload.ts";

/** PUT /upload/v1/sessions/<id>/parts/<n>: the body is part n. */
export const PART_PATH = /^\/upload\/v1\/sessions\/([^/]+)\/parts\/([^/]+)$/;
const MAX_FIELD_BYTES = 4096;

/** A part number from a path (digits only: "0x1", "1.0" or "1e0" are not part numbers; NaN is refused). */
export const partNumberOf = (text: string): number =>
  /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : Number.NaN;

const created = (file: FileRecord) =>
  Response.json(
    {
      file: {
        id: file.id,
        name: file.name,
        size: String(file.size),
        sha256: file.blobSha256,
        parentId: file.parentId,
      },
    },
    { status: 201 },
  );

/**
 * PUT|POST /upload/v1/files?name=N[&parent_id=P][&on_conflict=fail|rename|replace]: the body is the file
 * (X-Content-SHA256 optional). A taken name: 409 (fail, the default), "N (2).ext" or a new version.
 */
export async function putFile(
  deps: UploadDeps,
  req: Request,
  url: URL,
  verifier: AccessTokenVerifier,
): Promise<Response> {
  const who = await identify(req, url, verifier);
  const length = req.headers.get("content-length") ?? req.headers.get(ANNOUNCED_LENGTH_HEADER);
  const file = await storeUpload(
    deps,
    who,
    {
      name: url.searchParams.get("name") ?? "",
      parentId: url.searchParams.get("parent_id") ?? "",
      onConflict: conflictParam(url.searchParams.get("on_conflict")),
      expectedSize: length === null ? undefined : Number(length),
      expectedSha256: req.headers.get("x-content-sha256") ?? undefined,
    },
    freeingChunks(req.body ?? new Blob([]).stream()),
  );
  return created(file);
}

/** PUT /upload/v1/sessions/<id>/parts/<n> (X-Content-SHA256 or X-Content-SHA1 optional). */
export async function putSessionPart(
  deps: SessionDeps,
  req: Request,
  url: URL,
  verifier: AccessTokenVerifier,
  [sessionId, partNumber]: [string, string],
): Promise<Response> {
  const info = await sessions.putPart(
    deps,
    await identify(req, url, verifier),
    sessionId,
    partNumberOf(partNumber),
    freeingChunks(req.body ?? new Blob([]).stream()),
    {
      sha256: req.headers.get("x-content-sha256") ?? undefined,
      sha1: req.headers.get("x-content-sha1") ?? undefined,
    },
  );
  return Response.json({ partNumber: Number(partNumber), size: String(info.size), sha256: info.sha256 });
}

/**
 * POST /upload/v1/form: multipart/form-data with optional fields name, parent_id, on_conflict (legacy: token,
 * username), then the field "file"; sha1=now computes the SHA-1 on the request (the legacy /file/upload).
 */
export async function formUpload(
  deps: UploadDeps,
  req: Request,
  url: URL,
  verifier: AccessTokenVerifier,
): Promise<Response> {
  const boundary = boundaryOf(req.headers.get("content-type"));
  if (!boundary || !req.body) throw invalidArgument("send multipart/form-data with a field named file");
  // Credentials in the request are checked before the body is read; without any, the form's own `token`
  // field (before the file, as legacy clients may send it) is used when the file field arrives.
  const token = tokenOf(req, url);
  const early = token ? await verifyToken(token, verifier) : undefined;
  const fields: Record<string, string> = {};
  try {
    for await (const part of readMultipart(req.body, boundary)) {
      if (part.name !== "file") {
        const value = await new Response(part.body).arrayBuffer();
        if (value.byteLength > MAX_FIELD_BYTES) throw invalidArgument(`form field ${part.name} is too long`);
        fields[part.name] = new TextDecoder().decode(value);
        continue;
      }
      const who = early ?? (await verifyToken(fields.token, verifier));
      // The legacy form names its user too: it must be the token's.
      if (fields.username && fields.username.toLowerCase() !== who.username.toLowerCase())
        throw unauthenticated("the username does not match the token");
      const file = await storeUpload(
        deps,
        who,
        {
          name: fields.name ?? part.filename ?? "",
          parentId: fields.parent_id ?? url.searchParams.get("parent_id") ?? "",
          sha1: url.searchParams.get("sha1") === "now",
          onConflict: conflictParam(fields.on_conflict ?? url.searchParams.get("on_conflict")),
        },
        part.body,
      );
      // The rest of the form (if any) is not needed.
      return created(file);
    }
  } catch (err) {
    if (err instanceof MultipartError) throw invalidArgument(`malformed form: ${err.message}`);
    throw err;
  }
  throw invalidArgument("the form has no field named file");
}
