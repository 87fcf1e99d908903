// The browser app (web/, bundled into ./assets.ts by scripts/build-web.ts), served from memory with
// revalidation (ETag) and a strict Content-Security-Policy: only our own scripts run, so even a markup
// injection could not execute anything.
import { Hono } from "hono";
import { type WebAsset, webAssets } from "./assets.ts";

const securityHeaders = {
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
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

function serve(asset: WebAsset, req: Request): Response {
  const headers = {
    ...securityHeaders,
    "Content-Type": asset.type,
    ETag: asset.etag,
    "Cache-Control": "no-cache",
  };
  if (req.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  return new Response(req.method === "HEAD" ? null : asset.body, { headers });
}

export function webApp() {
  const app = new Hono();
  app.on(["GET", "HEAD"], "/", (c) => serve(webAssets["/"] as WebAsset, c.req.raw));
  app.on(["GET", "HEAD"], "/assets/:name", (c) => {
    const asset = webAssets[c.req.path];
    return asset ? serve(asset, c.req.raw) : c.text("not found\n", 404);
  });
  return app;
}
