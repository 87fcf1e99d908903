// The route template of a request path, for metric labels: never the raw path (file ids, session ids,
// hashes and names would make a series per file, and leak them). Shared by the gateway and the workers so
// that both label the same request alike. A path that matches no known template is "other".
import {
  FILES_PATH,
  FORM_PATH,
  LINKS_PATH,
  SESSIONS_PATH,
  SHA1_PATH,
  THUMBNAILS_PATH,
  TUS_PATH,
  UPLOAD_PATH,
} from "../data-paths.ts";

/** Paths with no variable part that are templates as they are. */
const FIXED = new Set([
  UPLOAD_PATH,
  FORM_PATH,
  TUS_PATH,
  "/healthz",
  "/metrics",
  "/.well-known/jwks.json",
  "/",
]);

/** Prefixes whose rest is one or more ids: prefix → template. */
const PREFIXED: Array<[string, string]> = [
  [TUS_PATH, `${TUS_PATH}{id}`],
  [FILES_PATH, `${FILES_PATH}{id}`],
  [SHA1_PATH, `${SHA1_PATH}{sha1}`],
  [LINKS_PATH, `${LINKS_PATH}{id}`],
  [THUMBNAILS_PATH, `${THUMBNAILS_PATH}{sha256}/{px}`],
];

const SESSION_PART = new RegExp(`^${SESSIONS_PATH}/[^/]+/parts/[^/]+$`);
/** A Connect / gRPC / gRPC-Web call: /<package>.<Service>/<Method>. */
const RPC = /^\/[a-z][\w]*(\.[\w]+)+\/[A-Z]\w*$/;

/**
 * The template of `path`, or undefined when it is none of the data-plane, RPC or fixed paths. Callers
 * that know their own routes (the gateway's router) try theirs next, then use "other".
 */
export function routeTemplate(path: string): string | undefined {
  if (FIXED.has(path)) return path;
  if (SESSION_PART.test(path)) return `${SESSIONS_PATH}/{id}/parts/{n}`;
  for (const [prefix, template] of PREFIXED) if (path.startsWith(prefix)) return template;
  // RPC paths of the gateway's pass-through are counted by the workers' RPC metrics; here one route.
  if (RPC.test(path)) return "/{rpc}";
  return undefined;
}

export const OTHER_ROUTE = "other";
