// The data plane: file bytes go over plain HTTP to the upload (and later download) workers, streamed
// through without buffering. The workers authenticate these requests themselves.
import { Hono } from "hono";
import { forward } from "../rpc/proxy.ts";
import type { Upstreams } from "../upstreams.ts";

export function dataPlane(upstreams: Upstreams) {
  const app = new Hono<{ Variables: { clientIp: string; requestId: string } }>();
  app.all("/upload/*", async (c) => {
    const url = new URL(c.req.url);
    try {
      return await forward(
        c.req.raw,
        url.pathname + url.search,
        upstreams.upload,
        c.get("clientIp"),
        c.get("requestId"),
      );
    } catch (err) {
      console.error(
        JSON.stringify({
          msg: "upstream failed",
          service: "upload",
          rid: c.get("requestId"),
          err: String(err),
        }),
      );
      return c.json(
        { code: "unavailable", message: "the upload service is unavailable; try again shortly" },
        503,
      );
    }
  });
  return app;
}
