// The download worker: DownloadService (signed links) and the HTTP data plane for file bytes, which never
// travel inside RPCs:
//   GET|HEAD /download/v1/files/<fileId>       a file of the caller
//   GET|HEAD /download/v1/by-sha1/<sha1>       the caller's newest file with this content (legacy API)
//   GET|HEAD /download/v1/links/<fileId>?...   a signed link (no other credentials)
//   GET|HEAD /download/v1/thumbnails/<sha256>/<px>?exp=…&sig=…   a signed thumbnail URL (GetThumbnails)
//   GET|HEAD /download/v1/zip/<folderId>?...   a folder as a ZIP, by a signed link (folder-zip.ts)
// Each takes ?inline=1 (a preview: inline, with its previewable type) or ?inline=text (as text/plain).
// Credentials: Authorization: Bearer <access token>, or (for legacy pages) a token query parameter.
// Answers: 200/206 with the bytes, 304, 416; errors as Connect JSON (401, 403 for links, 404, 405).
import type { ConnectRouter } from "@connectrpc/connect";
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import { DOWNLOAD_PREFIX, FILES_PATH, SHA1_PATH, THUMBNAILS_PATH, ZIP_PATH } from "../../core/data-paths.ts";
import { DownloadService } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import { requireIdentity } from "../lib/context.ts";
import { errorResponse, identify, type OnError } from "../lib/http-auth.ts";
import { pathOf, type ServiceModule } from "../lib/server.ts";
import { respond, respondNow } from "./answer.ts";
import {
  asPreview,
  cachedOwnFile,
  createDownloadUrl,
  type DownloadDeps,
  LINKS_PATH,
  linkedFile,
  ownFile,
  ownFileBySha1,
  revokeDownloadUrls,
  type Target,
} from "./download.ts";
import { createFolderZipUrl, serveZipLink } from "./folder-zip.ts";
import { previewModeOf } from "./preview.ts";
import { getThumbnails, serveThumbnail } from "./thumbnails.ts";

/** True when an absolute URL's path is under /download/ (without parsing the URL: hot path). */
export const isDownloadUrl = (url: string) =>
  url.startsWith(DOWNLOAD_PREFIX, url.indexOf("/", url.indexOf("//") + 2));
/** The route of a download by file id, for Bun.serve's router (see DownloadModule.serveFile). */
export const FILE_ROUTE = `${FILES_PATH}:id` as const;

const decoded = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return "";
  }
};

const notGetOrHead = () =>
  Response.json(
    { code: "unimplemented", message: "downloads are GET or HEAD" },
    { status: 405, headers: { allow: "GET, HEAD" } },
  );

type Resolve = (req: Request, id: string) => Promise<Target>;

/**
 * The request asks for the file as it is now (Cache-Control: no-cache): the lookup cache is skipped.
 * WebDAV sends it, since a client reads back at once what it just wrote under the same file id.
 */
const noCache = (req: Request) => req.headers.get("cache-control")?.includes("no-cache") === true;

export interface DownloadModule extends ServiceModule {
  /** The data plane alone: an answer for every /download/ request (the all-in-one process calls it directly). */
  serve(req: Request): Response | Promise<Response>;
  /**
   * A GET or HEAD that Bun.serve's router matched to FILE_ROUTE, with the id it decoded: serve(req)'s
   * answer without building and parsing the URL string in JavaScript (about 2 µs of a range request).
   */
  serveFile(req: Request, id: string): Response | Promise<Response>;
}

export function downloadModule(
  deps: DownloadDeps,
  verifier: AccessTokenVerifier,
  onError: OnError,
): DownloadModule {
  // The URL is parsed only where its query matters (links, the legacy token parameter): this is the path
  // of every range request.
  const routes: [prefix: string, resolve: Resolve][] = [
    [FILES_PATH, async (req, id) => ownFile(deps, await identify(req, req.url, verifier), id, noCache(req))],
    [SHA1_PATH, async (req, id) => ownFileBySha1(deps, await identify(req, req.url, verifier), id)],
    [LINKS_PATH, async (req, id) => linkedFile(deps, id, new URL(req.url).searchParams)],
  ];

  /**
   * The answer without a single wait, when the caller's token and file are both in their caches (the
   * range requests of one download after the first): Bun.serve then takes the Response as it is.
   */
  function serveCached(req: Request, id: string): Response | undefined {
    if (
      !id ||
      id.includes("/") ||
      id.includes("%") ||
      (req.method !== "GET" && req.method !== "HEAD") ||
      noCache(req)
    )
      return undefined;
    // The token cache holds verified tokens only, so a plain "Bearer <token>" is looked up as it is, without
    // bearer()'s scan of every character; any other form of the header takes the long way (serveAny).
    const authorization = req.headers.get("authorization");
    const token = authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined;
    const who = token ? verifier.cached?.(token) : undefined;
    const t = who && cachedOwnFile(deps, who, id);
    return t && respondNow(deps, req, asPreview(t, previewModeOf(req.url)));
  }

  function serve(req: Request): Response | Promise<Response> {
    const path = pathOf(req.url);
    return (
      (path.startsWith(FILES_PATH) && serveCached(req, path.slice(FILES_PATH.length))) || serveAny(req, path)
    );
  }

  function serveFile(req: Request, id: string): Response | Promise<Response> {
    return serveCached(req, id) || serveAny(req, pathOf(req.url));
  }

  async function serveAny(req: Request, path: string): Promise<Response> {
    if (path.startsWith(THUMBNAILS_PATH)) {
      if (req.method !== "GET" && req.method !== "HEAD") return notGetOrHead();
      try {
        return await serveThumbnail(deps.thumbnails, req, path);
      } catch (err) {
        return errorResponse(err, onError, { req });
      }
    }
    if (path.startsWith(ZIP_PATH)) {
      const id = decoded(path.slice(ZIP_PATH.length));
      if (req.method !== "GET" && req.method !== "HEAD") return notGetOrHead();
      try {
        return await serveZipLink(deps, req, id.includes("/") ? "" : id);
      } catch (err) {
        return errorResponse(err, onError, { req });
      }
    }
    for (const [prefix, resolve] of routes) {
      if (!path.startsWith(prefix)) continue;
      const raw = path.slice(prefix.length);
      const id = raw.includes("%") ? decoded(raw) : raw;
      if (!id || id.includes("/")) break;
      if (req.method !== "GET" && req.method !== "HEAD") return notGetOrHead();
      try {
        return await respond(deps, req, asPreview(await resolve(req, id), previewModeOf(req.url)));
      } catch (err) {
        return errorResponse(err, onError, { req });
      }
    }
    return Response.json({ code: "not_found", message: `no download route ${path}` }, { status: 404 });
  }

  return {
    services: [DownloadService],
    routes(router: ConnectRouter) {
      router.service(DownloadService, {
        async createDownloadUrl(req, ctx) {
          return createDownloadUrl(deps, requireIdentity(ctx), req);
        },
        async createFolderZipUrl(req, ctx) {
          return createFolderZipUrl(deps, requireIdentity(ctx), req);
        },
        async getThumbnails(req, ctx) {
          return getThumbnails(deps.thumbnails, requireIdentity(ctx), req);
        },
        async revokeDownloadUrls(req, ctx) {
          await revokeDownloadUrls(deps, requireIdentity(ctx), req.fileId);
          return {};
        },
      });
    },
    serve,
    serveFile,
    http(req) {
      return isDownloadUrl(req.url) ? serve(req) : undefined;
    },
  };
}
