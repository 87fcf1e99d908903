// The route template of a request path, for span names and access-log lines: ids, hashes and tokens in a
// path become placeholders (a template names what was asked for, never whose file or which link).
import { JWKS_PATH } from "../access-token.ts";
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

const templates: [prefix: string, template: string][] = [
  [TUS_PATH, `${TUS_PATH}:id`],
  [FILES_PATH, `${FILES_PATH}:id`],
  [SHA1_PATH, `${SHA1_PATH}:sha1`],
  [LINKS_PATH, `${LINKS_PATH}:id`],
  [THUMBNAILS_PATH, `${THUMBNAILS_PATH}:sha256/:size`],
];
const fixed = new Set([UPLOAD_PATH, FORM_PATH, TUS_PATH, JWKS_PATH, "/healthz", "/metrics"]);
const RPC_PATH = /^\/[A-Za-z_][\w.]*\.[A-Za-z_]\w*\/[A-Za-z_]\w*$/;

/** "/pkg.Service/Method" and fixed paths as they are, data-plane paths as templates, anything else "other". */
export function routeOf(path: string): string {
  if (fixed.has(path) || RPC_PATH.test(path)) return path;
  if (path.startsWith(`${SESSIONS_PATH}/`)) return `${SESSIONS_PATH}/:id/parts/:n`;
  for (const [prefix, template] of templates) if (path.startsWith(prefix)) return template;
  return "other";
}
