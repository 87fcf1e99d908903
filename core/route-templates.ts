// The route template of a request path: never the raw path (file ids, session ids, hashes and names would
// make a metric series per file, and leak whose file or which link into labels, span names and access
// logs). One table for the metrics (core/metrics/routes.ts) and the traces and access logs
// (core/tracing/routes.ts), so that every signal names a request alike.
import { JWKS_PATH } from "./access-token.ts";
import {
  FILES_PATH,
  FORM_PATH,
  LINKS_PATH,
  SESSIONS_PATH,
  SHA1_PATH,
  THUMBNAILS_PATH,
  TUS_PATH,
  UPLOAD_PATH,
  ZIP_PATH,
} from "./data-paths.ts";

/** Paths with no variable part that are templates as they are. */
const FIXED = new Set([UPLOAD_PATH, FORM_PATH, TUS_PATH, JWKS_PATH, "/healthz", "/metrics", "/"]);

/** Prefixes whose rest is one or more ids: prefix → template. */
const PREFIXED: Array<[string, string]> = [
  [TUS_PATH, `${TUS_PATH}{id}`],
  [FILES_PATH, `${FILES_PATH}{id}`],
  [SHA1_PATH, `${SHA1_PATH}{sha1}`],
  [LINKS_PATH, `${LINKS_PATH}{id}`],
  [THUMBNAILS_PATH, `${THUMBNAILS_PATH}{sha256}/{px}`],
  [ZIP_PATH, `${ZIP_PATH}{id}`],
];

const SESSION_PART = new RegExp(`^${SESSIONS_PATH}/[^/]+/parts/[^/]+$`);

/** WebDAV mounts: their rest is a path of names (never a label), and the files form names a user. */
const DAV_MOUNTS: Array<[string, string]> = [
  ["/dav", "/dav/{path}"],
  ["/remote.php/webdav", "/remote.php/webdav/{path}"],
  ["/remote.php/dav/files/", "/remote.php/dav/files/{user}/{path}"],
  ["/remote.php/dav/uploads/", "/remote.php/dav/uploads/{user}/{path}"],
  ["/public.php/webdav", "/public.php/webdav/{path}"],
];

/** A Connect / gRPC / gRPC-Web call: /<package>.<Service>/<Method>. */
export const RPC_PATH = /^\/[A-Za-z_][\w.]*\.[A-Za-z_]\w*\/[A-Za-z_]\w*$/;

/** The template of a data-plane or fixed path; undefined for anything else (RPC paths included). */
export function dataPlaneRoute(path: string): string | undefined {
  if (FIXED.has(path)) return path;
  if (SESSION_PART.test(path)) return `${SESSIONS_PATH}/{id}/parts/{n}`;
  for (const [prefix, template] of PREFIXED) if (path.startsWith(prefix)) return template;
  for (const [mount, template] of DAV_MOUNTS)
    if (path === mount || path.startsWith(mount.endsWith("/") ? mount : `${mount}/`)) return template;
  return undefined;
}
