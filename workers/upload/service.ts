// The upload worker: UploadService (RPCs of the upload issue land here) and the HTTP data plane for
// file bytes, which never travel inside RPCs:
//   PUT|POST /upload/v1/files?name=N[&parent_id=P]   the body is the file (X-Content-SHA256 optional)
//   POST     /upload/v1/form[?token=T][&sha1=now]    multipart/form-data: optional fields name and
//                                                    parent_id (legacy: token, username), then the field
//                                                    "file"; sha1=now computes the SHA-1 on the request
//                                                    (the legacy /file/upload)
//   PUT      /upload/v1/sessions/<id>/parts/<n>      part n of a multipart session (X-Content-SHA256 or
//                                                    X-Content-SHA1 optional)
//   *        /upload/v1/tus/[<id>]                   tus 1.0.0 (creation, termination, checksum)
// Credentials: Authorization: Bearer <access token>, or (for legacy pages) a token query parameter, or on
// the form route a token field before the file.
import type { ConnectRouter } from "@connectrpc/connect";
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import { tokenOf } from "../../core/access-token.ts";
import { FORM_PATH, SESSIONS_PATH, UPLOAD_PATH } from "../../core/data-paths.ts";
import { boundaryOf, MultipartError, readMultipart } from "../../core/multipart.ts";
import type { FileRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { freeingChunks } from "../lib/blobstore/common.ts";
import { canPresign } from "../lib/blobstore/types.ts";
import { requireIdentity } from "../lib/context.ts";
import { invalidArgument, unauthenticated } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import { errorResponse, identify, type OnError, verifyToken } from "../lib/http-auth.ts";
import type { ServiceModule } from "../lib/server.ts";
import { type InstantDeps, linkBySha1, offerContent, proveContent } from "./instant.ts";
import type { SessionDeps } from "./sessions.ts";
import * as sessions from "./sessions.ts";
import { handleTus, TUS_PATH } from "./tus.ts";
import { storeUpload, type UploadDeps } from "./upload.ts";

/** PUT /upload/v1/sessions/<id>/parts/<n>: the body is part n. */
const PART_PATH = /^\/upload\/v1\/sessions\/([^/]+)\/parts\/([^/]+)$/;
const MAX_FIELD_BYTES = 4096;

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

async function fromForm(
  req: Request,
  url: URL,
  deps: UploadDeps,
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

export function uploadModule(
  deps: InstantDeps & SessionDeps,
  verifier: AccessTokenVerifier,
  onError: OnError,
): ServiceModule {
  const answer = async (req: Request, work: () => Promise<Response>): Promise<Response> => {
    try {
      return await work();
    } catch (err) {
      return errorResponse(err, onError, { req });
    }
  };
  return {
    services: [UploadService],
    routes(router: ConnectRouter) {
      // Every UploadService RPC is here; bytes come only by UploadFile's stream or the data plane below.
      router.service(UploadService, {
        async offerContent(req, ctx) {
          return offerContent(deps, requireIdentity(ctx), req);
        },
        async proveContent(req, ctx) {
          return { file: await proveContent(deps, requireIdentity(ctx), req) };
        },
        async linkBySha1(req, ctx) {
          return { file: await linkBySha1(deps, requireIdentity(ctx), req) };
        },
        async uploadFile(requests, ctx) {
          const who = requireIdentity(ctx);
          const it = requests[Symbol.asyncIterator]();
          const first = await it.next();
          if (first.done || first.value.payload.case !== "header") {
            throw invalidArgument("the first message must be the header (name, size, sha256)");
          }
          const header = first.value.payload.value;
          async function* chunks() {
            for (let r = await it.next(); !r.done; r = await it.next()) {
              if (r.value.payload.case !== "chunk")
                throw invalidArgument("after the header come only chunks");
              yield r.value.payload.value;
            }
          }
          const file = await storeUpload(
            deps,
            who,
            {
              name: header.name,
              parentId: header.parentId,
              expectedSize: header.size > 0n ? Number(header.size) : undefined,
              expectedSha256: header.sha256 || undefined,
            },
            chunks(),
          );
          return { file: publicFile(file) };
        },
        async createUploadSession(req, ctx) {
          const s = await sessions.createSession(deps, requireIdentity(ctx), req);
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
        },
        async listParts(req, ctx) {
          const { session, parts } = await sessions.listParts(deps, requireIdentity(ctx), req.sessionId);
          return {
            parts: parts.map((p) => ({ partNumber: p.partNumber, size: BigInt(p.size), sha256: p.sha256 })),
            partSize: session.partSize,
            partCount: session.partCount,
          };
        },
        async completeUploadSession(req, ctx) {
          return {
            file: await sessions.completeSession(deps, requireIdentity(ctx), req.sessionId, {
              name: req.name,
              parentId: req.parentId,
            }),
          };
        },
        async abortUploadSession(req, ctx) {
          await sessions.abortSession(deps, requireIdentity(ctx), req.sessionId);
          return {};
        },
      });
    },
    async http(req) {
      const url = new URL(req.url);
      if (url.pathname.startsWith(TUS_PATH)) {
        try {
          return await handleTus(deps, req, url, () => identify(req, url, verifier));
        } catch (err) {
          return errorResponse(err, onError, { req, text: true, headers: { "Tus-Resumable": "1.0.0" } });
        }
      }
      if (url.pathname === FORM_PATH && req.method === "POST")
        return answer(req, () => fromForm(req, url, deps, verifier));
      if (url.pathname === UPLOAD_PATH && (req.method === "PUT" || req.method === "POST")) {
        return answer(req, async () => {
          const who = await identify(req, url, verifier);
          const length = req.headers.get("content-length");
          const file = await storeUpload(
            deps,
            who,
            {
              name: url.searchParams.get("name") ?? "",
              parentId: url.searchParams.get("parent_id") ?? "",
              expectedSize: length === null ? undefined : Number(length),
              expectedSha256: req.headers.get("x-content-sha256") ?? undefined,
            },
            freeingChunks(req.body ?? new Blob([]).stream()),
          );
          return created(file);
        });
      }
      const part = PART_PATH.exec(url.pathname);
      if (part && req.method === "PUT") {
        return answer(req, async () => {
          const info = await sessions.putPart(
            deps,
            await identify(req, url, verifier),
            part[1] as string,
            // Digits only: "0x1", "1.0" or "1e0" are not part numbers.
            /^[1-9][0-9]{0,4}$/.test(part[2] as string) ? Number(part[2]) : Number.NaN,
            freeingChunks(req.body ?? new Blob([]).stream()),
            {
              sha256: req.headers.get("x-content-sha256") ?? undefined,
              sha1: req.headers.get("x-content-sha1") ?? undefined,
            },
          );
          return Response.json({ partNumber: Number(part[2]), size: String(info.size), sha256: info.sha256 });
        });
      }
      if (url.pathname === UPLOAD_PATH || url.pathname === FORM_PATH || part) {
        return Response.json({ code: "unimplemented", message: "method not allowed here" }, { status: 405 });
      }
      return undefined;
    },
  };
}
