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
//   PUT      /upload/v1/drop/<share id>?name=N       a drop link's upload (X-Share-Token; drop.ts)
//   *        /upload/v1/drop/<share id>/sessions/…   a drop link's multipart sessions (drop-sessions.ts)
// Credentials: Authorization: Bearer <access token>, or (for legacy pages) a token query parameter, or on
// the form route a token field before the file.

import type { ConnectRouter } from "@connectrpc/connect";
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import { FORM_PATH, UPLOAD_PATH } from "../../core/data-paths.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { requireIdentity } from "../lib/context.ts";
import { publicFile } from "../lib/file-record.ts";
import { errorResponse, identify, type OnError } from "../lib/http-auth.ts";
import type { ServiceModule } from "../lib/server.ts";
import { formUpload, PART_PATH, putFile, putSessionPart } from "./data-plane.ts";
import { DROP_ROUTE, type DropDeps, dropFile } from "./drop.ts";
import { DROP_SESSION_ROUTE, dropSessionCall } from "./drop-sessions.ts";
import { type InstantDeps, linkBySha1, offerContent, proveContent } from "./instant.ts";
import { openSession } from "./open-session.ts";
import type { SessionDeps } from "./sessions.ts";
import * as sessions from "./sessions.ts";
import { storeStreamed } from "./streamed.ts";
import { handleTus, TUS_PATH } from "./tus.ts";

export function uploadModule(
  deps: InstantDeps & SessionDeps & Partial<DropDeps>,
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
          return { file: publicFile(await storeStreamed(deps, requireIdentity(ctx), requests)) };
        },
        async createUploadSession(req, ctx) {
          return openSession(deps, requireIdentity(ctx), req);
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
        return answer(req, () => formUpload(deps, req, url, verifier));
      if (url.pathname === UPLOAD_PATH && (req.method === "PUT" || req.method === "POST"))
        return answer(req, () => putFile(deps, req, url, verifier));
      const dropSession = DROP_SESSION_ROUTE.exec(url.pathname);
      if (dropSession) return answer(req, () => dropSessionCall(deps, req, dropSession));
      const drop = DROP_ROUTE.exec(url.pathname);
      if (drop && req.method === "PUT")
        return answer(req, () =>
          dropFile({ ...deps, now: deps.now ?? Date.now }, req, url, drop[1] as string),
        );
      const part = PART_PATH.exec(url.pathname);
      if (part && req.method === "PUT")
        return answer(req, () =>
          putSessionPart(deps, req, url, verifier, [part[1], part[2]] as [string, string]),
        );
      if (url.pathname === UPLOAD_PATH || url.pathname === FORM_PATH || part) {
        return Response.json({ code: "unimplemented", message: "method not allowed here" }, { status: 405 });
      }
      return undefined;
    },
  };
}
