// POST /file/downloadurl answers a signed link (absolute, on this host unless PUBLIC_DOWNLOAD_URL says
// otherwise) as plain text, like the original; GET /file/download serves the caller's newest file with that
// SHA-1 through the download worker (Range, ETag, Content-Disposition with the user's name). A file of
// another user is not found.
import type { Hono } from "hono";
import { SHA1_PATH } from "../../core/data-paths.ts";
import { DownloadService } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import { type Upstream, upstreamClient } from "../upstreams.ts";
import { type Env, type LegacyAuth, toWorker } from "./auth.ts";
import { legacyError, tokenInvalid, workerError } from "./errors.ts";
import { legacyParams } from "./params.ts";

export function legacyDownloadRoutes(app: Hono<Env>, upstream: Upstream, auth: LegacyAuth) {
  const download = upstreamClient(DownloadService, upstream);

  app.post("/downloadurl", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return tokenInvalid(c);
    try {
      const { url } = await download.createDownloadUrl(
        { sha1: p.filehash ?? "" },
        auth.call(c, p.token as string),
      );
      return c.body(new URL(url, c.req.url).href, 200, { "content-type": "application/octet-stream" });
    } catch (err) {
      return legacyError(c, "downloadurl", err, {
        plain: {
          "not-found": () => c.text("Error: you have no file with this filehash\n", 404),
          "bad-request": (e) => c.text(`Error: ${e.rawMessage}\n`, 400),
        },
      });
    }
  });

  // (GET routes answer HEAD too.)
  app.get("/download", async (c) => {
    const p = c.req.query();
    if (!(await auth.authorized(p))) return tokenInvalid(c);
    const headers = new Headers(c.req.raw.headers);
    headers.set("authorization", `Bearer ${p.token}`);
    const res = await toWorker(
      c,
      new Request(c.req.raw, { headers }),
      `${SHA1_PATH}${encodeURIComponent(p.filehash ?? "")}`,
      "download",
      upstream,
    );
    // The bytes, and any answer that is not one of the worker's JSON errors (a 416 says why in text).
    if (!(res instanceof Response)) return legacyError(c, "download", res);
    if (res.status < 400 || !res.headers.get("content-type")?.includes("json")) return res;
    // A small JSON error: read once, passed on as it came when the legacy API has nothing else to say.
    const body = await res.text();
    const again = () => new Response(body, { status: res.status, headers: res.headers });
    return legacyError(c, "download", await workerError(again(), "invalid parameters"), {
      passed: again(),
      plain: {
        "not-found": () => c.text("File not found.\n", 404),
        "bad-request": (e) => c.text(`${e.rawMessage}\n`, 400),
      },
    });
  });
}
