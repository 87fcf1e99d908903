// Legacy file routes (shared/LEGACY_API.md) as thin adapters over the upload worker.
//   POST /file/upload       multipart field "file"; username and token in the query string (as the pages send them)
//   POST /file/fastupload   username, token, filehash (SHA-1), filename, filesize: hit {code:0}, miss {code:-1}
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Hono } from "hono";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { type AccessTokenVerifier, InvalidTokenError } from "../../workers/lib/access-token.ts";
import { forward } from "../rpc/proxy.ts";
import type { Upstream } from "../upstreams.ts";
import { LegacyCode, legacyParams } from "./params.ts";

export interface LegacyFileOptions {
  upload: Upstream;
  verifier: AccessTokenVerifier;
}

export function legacyFileRoutes(opts: LegacyFileOptions) {
  const upload = createClient(
    UploadService,
    createConnectTransport({
      baseUrl: opts.upload.url,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        opts.upload.fetch(new Request(input, init))) as typeof fetch,
    }),
  );
  const app = new Hono<{ Variables: { clientIp: string; requestId: string } }>();

  app.post("/fastupload", async (c) => {
    const p = await legacyParams(c);
    const invalidToken = () => c.json({ code: LegacyCode.tokenInvalid, msg: "token invalid; sign in again" });
    if (!p.token) return invalidToken();
    try {
      const who = await opts.verifier.verify(p.token);
      if (p.username && p.username.toLowerCase() !== who.username.toLowerCase()) return invalidToken();
    } catch (err) {
      if (err instanceof InvalidTokenError) return invalidToken();
      throw err;
    }
    const size = /^\d{1,16}$/.test(p.filesize ?? "") ? BigInt(p.filesize as string) : 0n;
    try {
      await upload.linkBySha1(
        { sha1: p.filehash ?? "", size, name: p.filename ?? "" },
        {
          headers: {
            authorization: `Bearer ${p.token}`,
            "x-forwarded-for": c.get("clientIp"),
            "x-request-id": c.get("requestId"),
          },
        },
      );
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.NotFound || e.code === Code.InvalidArgument)
        return c.json({ code: -1, msg: e.rawMessage });
      if (e.code === Code.Unauthenticated) return invalidToken();
      return c.json({ code: -2, msg: "fast upload failed; try again later" });
    }
  });

  app.post("/upload", async (c) => {
    const url = new URL(c.req.url);
    const token = url.searchParams.get("token");
    const username = url.searchParams.get("username");
    const invalidToken = () => c.json({ code: LegacyCode.tokenInvalid, msg: "token invalid; sign in again" });
    if (!token) return invalidToken();
    try {
      const who = await opts.verifier.verify(token);
      if (username && username.toLowerCase() !== who.username.toLowerCase()) return invalidToken();
    } catch (err) {
      if (err instanceof InvalidTokenError) return invalidToken();
      throw err;
    }
    let res: Response;
    try {
      // The multipart body streams on to the worker unread.
      res = await forward(
        c.req.raw,
        `/upload/v1/form${url.search}`,
        opts.upload,
        c.get("clientIp"),
        c.get("requestId"),
      );
    } catch {
      return c.json({ code: -6, msg: "the upload service is unavailable; try again shortly" });
    }
    const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    if (res.status === 201) return c.json({ code: 0, msg: "OK" });
    if (res.status === 401) return invalidToken();
    // -1: the request was wrong (no file field, bad name, too large); -6: the server failed.
    const code = res.status >= 400 && res.status < 500 ? -1 : -6;
    return c.json({ code, msg: body.message ?? "upload failed" });
  });
  return app;
}
