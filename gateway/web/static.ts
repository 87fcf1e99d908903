// The browser app (web/, bundled into ./assets.ts by scripts/build-web.ts), served from memory with
// revalidation (ETag) and a strict Content-Security-Policy: only our own scripts run, so even a markup
// injection could not execute anything.
import { Hono } from "hono";
import { type WebAsset, webAssets } from "./assets.ts";

/**
 * The app's headers. Thumbnails, previews and media come from the download data plane: this origin, or
 * PUBLIC_DOWNLOAD_URL's when the operator serves downloads elsewhere, which may then be shown (images,
 * media, the PDF frame) but never run scripts in the app.
 */
export function securityHeaders(downloadEntry?: string): Record<string, string> {
  const downloads = originOf(downloadEntry);
  const shown = downloads ? `'self' ${downloads}` : "'self'";
  return {
    "Content-Security-Policy": [
      "default-src 'self'",
      "script-src 'self'",
      "worker-src 'self'",
      "style-src 'self'",
      `img-src ${shown} data:`,
      `media-src ${shown}`,
      `frame-src ${shown}`,
      // Part uploads may go straight to S3 through presigned URLs, wherever the operator's S3 lives.
      "connect-src 'self' http: https:",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
    "X-Content-Type-Options": "nosniff",
    // Signed download links must not leak to other sites through the Referer header.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
  };
}

/** The http(s) origin of a URL, or undefined (unset or not a URL: the CSP stays 'self' only). */
function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

function serve(asset: WebAsset, req: Request, security: Record<string, string>): Response {
  const headers = {
    ...security,
    "Content-Type": asset.type,
    ETag: asset.etag,
    "Cache-Control": "no-cache",
  };
  if (req.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  return new Response(req.method === "HEAD" ? null : asset.body, { headers });
}

/** The app's routes; `downloadEntry` is PUBLIC_DOWNLOAD_URL (unset: downloads are on this origin). */
export function webApp(downloadEntry?: string) {
  const app = new Hono();
  const security = securityHeaders(downloadEntry);
  const page = (c: { req: { raw: Request } }) => serve(webAssets["/"] as WebAsset, c.req.raw, security);
  app.on(["GET", "HEAD"], "/", page);
  // A share link (/s/<id>, and the folders below it the share page's URLs name): the same app, no login.
  app.on(["GET", "HEAD"], ["/s/:id", "/s/:id/*"], page);
  app.on(["GET", "HEAD"], "/assets/:name", (c) => {
    const asset = webAssets[c.req.path];
    return asset ? serve(asset, c.req.raw, security) : c.text("not found\n", 404);
  });
  return app;
}
