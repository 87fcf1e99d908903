// The answer for a file a request names (download.ts finds it): 304, 416, 206 or 200 with the content
// from its blob store — sendfile for local disk (or X-Accel-Redirect to the nginx in front), a stream or a
// presigned redirect for S3.
import { canPresign, hasFileReads, type Range } from "../lib/blobstore/types.ts";
import type { DownloadDeps, Target } from "./download.ts";
import { noneMatch, parseRange, type RangeDecision, rangeStillValid } from "./http.ts";

/** How long a presigned S3 URL of a redirect lives: long enough to start, short enough not to be shared. */
const REDIRECT_TTL_SECONDS = 300;

const FULL: RangeDecision = { kind: "full" };

/**
 * The answer to a GET or HEAD of a file: 304 when the client's copy is current, 416 for a range past the
 * end, 206 for a single range, 200 otherwise (also for several ranges). On S3 with redirects configured,
 * a GET is sent to a presigned URL instead (the bucket handles Range itself).
 */
export function respond(deps: DownloadDeps, req: Request, t: Target): Response | Promise<Response> {
  return respondNow(deps, req, t) ?? respondLater(deps, req, t);
}

/** The fixed headers plus these (a copy: t.headers is shared by every answer of this lookup). */
function headersWith(t: Target, extra: Record<string, string>): Headers {
  const h = new Headers(t.headers);
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
}

/** The answer when it needs no waiting (all but S3 redirects and streamed bodies); else undefined. */
export function respondNow(deps: DownloadDeps, req: Request, t: Target): Response | undefined {
  const { etag } = t;
  const ifNoneMatch = req.headers.get("if-none-match");
  if (ifNoneMatch && noneMatch(ifNoneMatch, etag)) {
    return new Response(null, { status: 304, headers: { etag, "cache-control": "private, no-cache" } });
  }
  // Range applies to GET only (RFC 9110 §14.2).
  if (req.method === "HEAD") {
    return new Response(null, { status: 200, headers: headersWith(t, { "content-length": String(t.size) }) });
  }
  const store = deps.storeFor(t.backend);
  if (deps.s3Redirect && canPresign(store)) return undefined;
  const rangeHeader = req.headers.get("range");
  const decision = rangeHeader ? rangeOf(req, rangeHeader, t) : FULL;
  if (decision.kind === "unsatisfiable") {
    return new Response(`the range is past the end: the file has ${t.size} bytes\n`, {
      status: 416,
      headers: { "content-range": `bytes */${t.size}`, "content-type": "text/plain; charset=utf-8" },
    });
  }
  // A Blob (local disk: a Bun.file) goes out with sendfile(2). Under Bun.serve a single valid range
  // (checked above, If-Range included) is left to it (see bunServeRanges). Anything else that carries a
  // Range header (several ranges, a stale If-Range) is answered in full as a stream (respondLater): Bun.serve
  // would apply the Range to a whole-file Blob.
  if (deps.accelPrefix && hasFileReads(store)) {
    // nginx applies the Range (and If-Range, against the ETag passed on) to the file itself.
    deps.metrics?.served(t.backend, bytesOf(t, decision), decision.kind === "partial");
    t.accelHeaders ??= headersWith(t, {
      "x-accel-redirect": `${deps.accelPrefix}${store.relativePath(t.location)}`,
    });
    return new Response(null, { status: 200, headers: t.accelHeaders });
  }
  if (!hasFileReads(store) || !(decision.kind === "partial" || !rangeHeader)) return undefined;
  deps.metrics?.served(t.backend, bytesOf(t, decision), decision.kind === "partial");
  if (deps.bunServeRanges) {
    const headers = decision.kind === "partial" ? t.rangedHeaders : t.headers;
    return new Response(store.readBlob(t.location), { status: 200, headers });
  }
  const range = decision.kind === "partial" ? decision : undefined;
  return new Response(store.readBlob(t.location, range), {
    status: range ? 206 : 200,
    headers: headersWith(t, lengthHeaders(t, range)),
  });
}

/** The bytes an answer carries: the range's, or the whole file's. */
const bytesOf = (t: Target, d: RangeDecision) => (d.kind === "partial" ? d.end - d.start + 1 : t.size);

/** Content-Length, and Content-Range for a range. */
function lengthHeaders(t: Target, range: Range | undefined): Record<string, string> {
  if (!range) return { "content-length": String(t.size) };
  return {
    "content-range": `bytes ${range.start}-${range.end}/${t.size}`,
    "content-length": String(range.end - range.start + 1),
  };
}

/** The request's single range, if it still applies (If-Range) and is one. */
const rangeOf = (req: Request, header: string, t: Target): RangeDecision =>
  rangeStillValid(req.headers.get("if-range"), t.etag) ? parseRange(header, t.size) : FULL;

/** The answers that wait: a redirect to a presigned S3 URL, or the content streamed from the store. */
async function respondLater(deps: DownloadDeps, req: Request, t: Target): Promise<Response> {
  const store = deps.storeFor(t.backend);
  if (deps.s3Redirect && canPresign(store)) {
    const url = await store.presignGet(t.location, REDIRECT_TTL_SECONDS, {
      contentType: t.contentType,
      contentDisposition: t.disposition,
    });
    deps.metrics?.redirected(t.backend);
    return new Response(null, { status: 302, headers: { location: url, "cache-control": "no-store" } });
  }
  const rangeHeader = req.headers.get("range");
  const decision = rangeHeader ? rangeOf(req, rangeHeader, t) : FULL;
  const range = decision.kind === "partial" ? decision : undefined;
  deps.metrics?.served(t.backend, bytesOf(t, decision), range !== undefined);
  return new Response(t.size === 0 ? null : await store.read(t.location, range), {
    status: range ? 206 : 200,
    headers: headersWith(t, lengthHeaders(t, range)),
  });
}
