// The data plane: file bytes go over plain HTTP to the upload and download workers, streamed through
// without buffering (request and response bodies, Range and conditional headers as they are).
// Credentials are checked here before a byte of the body is read, and again by the workers: a request
// without a valid access token never reaches a worker with its body. Three routes need none (signed download
// links and thumbnail URLs, tus's OPTIONS) and go on without a body; a form upload may carry its token as a field before the
// file (form-fields.ts reads at most 64 KiB of it to find out).
import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { type Context, Hono } from "hono";
import { type AccessTokenVerifier, InvalidTokenError, tokenOf } from "../../core/access-token.ts";
import {
  DROP_PATH,
  FORM_PATH,
  LINKS_PATH,
  THUMBNAILS_PATH,
  TUS_PATH,
  ZIP_PATH,
} from "../../core/data-paths.ts";
import { failureHeaders } from "../../core/failure.ts";
import { log } from "../log.ts";
import { upstreamUnavailable } from "../rpc/errors.ts";
import { forward } from "../rpc/proxy.ts";
import type { Upstreams } from "../upstreams.ts";
import { FormFieldsError, fieldsBeforeFile } from "./form-fields.ts";

type Env = { Variables: { clientIp: string; requestId: string } };

/**
 * Why a data-plane request is refused at the edge (no valid credentials: 401): a Connect-style JSON error,
 * as the workers answer (text for tus).
 */
function refuse(path: string, message: string): Response {
  if (path.startsWith(TUS_PATH)) {
    return new Response(`${message}\n`, {
      status: 401,
      headers: { "content-type": "text/plain", "tus-resumable": "1.0.0" },
    });
  }
  return Response.json(errorToJson(new ConnectError(message, Code.Unauthenticated), undefined), {
    status: 401,
  });
}

const SIGN_IN = "sign in first: send Authorization: Bearer <access token>";

/**
 * The request to send on, or the answer that refuses it: the caller's token must verify (from the
 * Authorization header, the `token` query parameter or, on the form route, a form field before the file).
 */
export async function admit(
  req: Request,
  url: URL,
  verifier: AccessTokenVerifier,
): Promise<{ req: Request } | { refused: Response }> {
  const path = url.pathname;
  // Drop uploads carry a share token, which the upload worker checks with the link (body and all).
  if (path.startsWith(DROP_PATH)) return { req };
  // Signed links (of files and folder ZIPs) and thumbnail URLs carry their own proof; tus clients ask the
  // server's capabilities without one.
  if (
    path.startsWith(LINKS_PATH) ||
    path.startsWith(ZIP_PATH) ||
    path.startsWith(THUMBNAILS_PATH) ||
    (path.startsWith(TUS_PATH) && req.method === "OPTIONS")
  )
    return { req: new Request(req.url, { method: req.method, headers: req.headers, signal: req.signal }) };
  let token = tokenOf(req, url);
  let admitted = req;
  if (!token && path === FORM_PATH && req.method === "POST") {
    try {
      const form = await fieldsBeforeFile(req);
      token = form.fields.token;
      admitted = form.request;
    } catch (err) {
      if (!(err instanceof FormFieldsError)) throw err;
      return { refused: refuse(path, err.message) };
    }
  }
  if (!token) return { refused: refuse(path, SIGN_IN) };
  try {
    await verifier.verify(token);
  } catch (err) {
    if (!(err instanceof InvalidTokenError)) throw err;
    return { refused: refuse(path, err.message) };
  }
  return { req: admitted };
}

export function dataPlane(upstreams: Upstreams, verifier: AccessTokenVerifier) {
  const app = new Hono<Env>();
  for (const service of ["upload", "download"] as const) {
    app.all(`/${service}/*`, async (c: Context<Env>) => {
      const url = new URL(c.req.url);
      const admitted = await admit(c.req.raw, url, verifier);
      if ("refused" in admitted) return admitted.refused;
      try {
        return await forward(
          admitted.req,
          url.pathname + url.search,
          upstreams[service],
          c.get("clientIp"),
          c.get("requestId"),
        );
      } catch (err) {
        // The client gone, or its body cut for idleness, is no failure of the worker.
        if (!c.req.raw.signal.aborted)
          log("error", "upstream failed", { service, rid: c.get("requestId"), err: String(err) });
        const rid = c.get("requestId");
        const e = upstreamUnavailable(err, service, rid);
        return c.json(errorToJson(e, undefined), 503, failureHeaders(e, rid));
      }
    });
  }
  return app;
}

/** The WebDAV mount points: the worker authenticates (Basic or Bearer) and answers every method itself. */
export const DAV_ROUTES = [
  "/dav",
  "/dav/*",
  "/remote.php/webdav",
  "/remote.php/webdav/*",
  "/remote.php/dav/*",
  "/public.php/webdav",
  "/public.php/webdav/*",
];

/**
 * WebDAV, forwarded to the dav worker as it came (any method, body streamed, chunked bodies included). The
 * path goes on as the client wrote it (dot segments and encodings unresolved), so that the worker sees and
 * refuses traversal itself.
 */
export function davPlane(upstreams: Upstreams) {
  const app = new Hono<Env>();
  for (const route of DAV_ROUTES) {
    app.all(route, async (c: Context<Env>) => {
      const raw = c.req.raw.url;
      const start = raw.indexOf("/", raw.indexOf("//") + 2);
      // The Host the client addressed, against which the worker checks a COPY/MOVE Destination (the hop to
      // the worker has a Host of its own).
      const host = { "x-forwarded-host": new URL(raw).host };
      try {
        return await forward(
          c.req.raw,
          raw.slice(start),
          upstreams.dav,
          c.get("clientIp"),
          c.get("requestId"),
          undefined,
          host,
        );
      } catch (err) {
        if (!c.req.raw.signal.aborted)
          log("error", "upstream failed", { service: "dav", rid: c.get("requestId"), err: String(err) });
        const rid = c.get("requestId");
        const e = upstreamUnavailable(err, "dav", rid);
        return c.json(errorToJson(e, undefined), 503, failureHeaders(e, rid));
      }
    });
  }
  return app;
}
