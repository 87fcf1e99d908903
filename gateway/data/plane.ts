// The data plane: file bytes go over plain HTTP to the upload and download workers, streamed through
// without buffering (request and response bodies, Range and conditional headers as they are). The workers
// authenticate these requests themselves.
import { Hono } from "hono";
import { failureHeaders } from "../../workers/lib/failure.ts";
import { upstreamUnavailable } from "../rpc/errors.ts";
import { forward } from "../rpc/proxy.ts";
import type { Upstreams } from "../upstreams.ts";

export function dataPlane(upstreams: Upstreams) {
  const app = new Hono<{ Variables: { clientIp: string; requestId: string } }>();
  for (const service of ["upload", "download"] as const) {
    app.all(`/${service}/*`, async (c) => {
      const url = new URL(c.req.url);
      try {
        return await forward(
          c.req.raw,
          url.pathname + url.search,
          upstreams[service],
          c.get("clientIp"),
          c.get("requestId"),
        );
      } catch (err) {
        const rid = c.get("requestId");
        const e = upstreamUnavailable(err, service, rid);
        return c.json({ code: "unavailable", message: e.rawMessage }, 503, failureHeaders(e, rid));
      }
    });
  }
  return app;
}
