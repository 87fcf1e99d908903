// Legacy file routes (shared/LEGACY_API.md) as thin adapters over the upload and file workers. Parameters
// come from the query string or the form body; username and token are checked (the token must be valid
// and name that user).
//   POST /file/query              limit: bare JSON array of the caller's files, newest first, trash excluded
//   POST /file/update             op=0, filehash (SHA-1), filename: renames the caller's (newest) file with
//                                 that content; bare [] on success, 403 with an empty body for another op,
//                                 an empty or invalid name or a malformed hash (as the original), 404 empty
//                                 when the caller has no such file, {code:10006} when the name is taken
//   POST /file/upload             multipart field "file"; username and token in the query string, or as
//                                 form fields before the file (read here from at most the first 64 KiB;
//                                 the file streams on unread)
//   POST /file/fastupload         filehash (SHA-1), filename, filesize: hit {code:0}, miss {code:-1}
//   POST /file/mpupload/init      filehash, filesize → UploadID, ChunkSize, ChunkCount, ChunkExists (resume);
//                                 -4 when the server's storage is full or the user has too many uploads open
//   POST /file/mpupload/uppart    uploadid, index (1-based), optional chkhash (SHA-1); body = the chunk
//   POST /file/mpupload/complete  uploadid, filehash, filesize, filename: -2 when chunks are missing
//   POST /file/mpupload/cancel    uploadid
//   POST /file/downloadurl        filehash → a signed link as plain text (no login token inside)
//   GET  /file/download           filehash → the bytes (Range, conditional requests) of the caller's file
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Context, Hono } from "hono";
import { type AccessTokenVerifier, InvalidTokenError } from "../../core/access-token.ts";
import { FORM_PATH, SESSIONS_PATH, SHA1_PATH } from "../../core/data-paths.ts";
import { DownloadService } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import { FileService, SortField } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { FormFieldsError, fieldsBeforeFile } from "../data/form-fields.ts";
import { upstreamUnavailable } from "../rpc/errors.ts";
import { forward } from "../rpc/proxy.ts";
import { type Upstream, upstreamClient } from "../upstreams.ts";
import { LegacyCode, legacyParams, legacyTime, serverFailureMessage } from "./params.ts";

export interface LegacyFileOptions {
  upload: Upstream;
  file: Upstream;
  download: Upstream;
  verifier: AccessTokenVerifier;
}

/** Most rows one /file/query returns (the home page asks for 15). */
const MAX_QUERY_LIMIT = 10_000;

type Env = { Variables: { clientIp: string; requestId: string } };

/**
 * Forwards a legacy request on to a worker's data plane; when the worker cannot be reached, the error to
 * tell ("the <service> service is unavailable, retry in a moment (request id …)").
 */
async function toWorker(
  c: Context<Env>,
  req: Request,
  path: string,
  service: "upload" | "download",
  upstream: Upstream,
): Promise<Response | ConnectError> {
  try {
    return await forward(req, path, upstream, c.get("clientIp"), c.get("requestId"));
  } catch (err) {
    return upstreamUnavailable(err, service, c.get("requestId"));
  }
}

/** The legacy auth helpers the route groups share. */
interface LegacyAuth {
  authorized(p: Record<string, string>): Promise<boolean>;
  call(c: Context<Env>, token: string): { headers: Record<string, string> };
  invalidToken(c: Context<Env>): Response;
}

/**
 * POST /file/downloadurl answers a signed link (absolute, on this host unless PUBLIC_DOWNLOAD_URL says
 * otherwise) as plain text, like the original; GET /file/download serves the caller's newest file with that
 * SHA-1 through the download worker (Range, ETag, Content-Disposition with the user's name). A file of
 * another user is not found.
 */
function legacyDownloadRoutes(app: Hono<Env>, opts: LegacyFileOptions, auth: LegacyAuth) {
  const download = upstreamClient(DownloadService, opts.download);

  app.post("/downloadurl", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return auth.invalidToken(c);
    try {
      const { url } = await download.createDownloadUrl(
        { sha1: p.filehash ?? "" },
        auth.call(c, p.token as string),
      );
      return c.body(new URL(url, c.req.url).href, 200, { "content-type": "application/octet-stream" });
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.Unauthenticated) return auth.invalidToken(c);
      if (e.code === Code.NotFound) return c.text("Error: you have no file with this filehash\n", 404);
      if (e.code === Code.InvalidArgument) return c.text(`Error: ${e.rawMessage}\n`, 400);
      return c.json({ code: LegacyCode.serverError, msg: serverFailureMessage(c, err) });
    }
  });

  // (GET routes answer HEAD too.)
  app.get("/download", async (c) => {
    const p = c.req.query();
    if (!(await auth.authorized(p))) return auth.invalidToken(c);
    const headers = new Headers(c.req.raw.headers);
    headers.set("authorization", `Bearer ${p.token}`);
    const res = await toWorker(
      c,
      new Request(c.req.raw, { headers }),
      `${SHA1_PATH}${encodeURIComponent(p.filehash ?? "")}`,
      "download",
      opts.download,
    );
    if (res instanceof ConnectError) return c.json({ code: LegacyCode.serverError, msg: res.rawMessage });
    if (res.status === 401) return auth.invalidToken(c);
    if (res.status === 404 || res.status === 400) {
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      return res.status === 404
        ? c.text("File not found.\n", 404)
        : c.text(`${body.message ?? "invalid parameters"}\n`, 400);
    }
    return res;
  });
}

export function legacyFileRoutes(opts: LegacyFileOptions) {
  const upload = upstreamClient(UploadService, opts.upload);
  const files = upstreamClient(FileService, opts.file);
  const app = new Hono<Env>();
  const invalidToken = (c: Context<Env>) =>
    c.json({ code: LegacyCode.tokenInvalid, msg: "token invalid; sign in again" });

  /** True when the token is valid and (if given) names the user; then `call` carries it on. */
  async function authorized(p: Record<string, string>): Promise<boolean> {
    if (!p.token) return false;
    try {
      const who = await opts.verifier.verify(p.token);
      return !p.username || p.username.toLowerCase() === who.username.toLowerCase();
    } catch (err) {
      if (err instanceof InvalidTokenError) return false;
      throw err;
    }
  }
  const call = (c: Context<Env>, token: string) => ({
    headers: {
      authorization: `Bearer ${token}`,
      "x-forwarded-for": c.get("clientIp"),
      "x-request-id": c.get("requestId"),
    },
  });
  const sizeParam = (v: string | undefined) => (/^\d{1,16}$/.test(v ?? "") ? BigInt(v as string) : undefined);

  app.post("/query", async (c) => {
    const p = await legacyParams(c);
    if (!(await authorized(p))) return invalidToken(c);
    // A missing or non-numeric limit is 0 rows, as in the original.
    const limit = Math.min(/^\d{1,9}$/.test(p.limit ?? "") ? Number(p.limit) : 0, MAX_QUERY_LIMIT);
    const rows: Record<string, string | number>[] = [];
    try {
      let pageToken = "";
      while (rows.length < limit) {
        const page = await files.listFiles(
          {
            allFolders: true,
            sort: SortField.UPDATED_AT,
            descending: true,
            pageSize: Math.min(limit - rows.length, 1000),
            pageToken,
          },
          call(c, p.token as string),
        );
        for (const f of page.files) {
          rows.push({
            UserName: p.username ?? "",
            FileHash: f.sha1,
            FileName: f.name,
            FileSize: Number(f.size),
            UploadAt: legacyTime(Number(f.createdAt ? timestampMs(f.createdAt) : 0)),
            LastUpdated: legacyTime(Number(f.updatedAt ? timestampMs(f.updatedAt) : 0)),
          });
        }
        pageToken = page.nextPageToken;
        if (!pageToken) break;
      }
    } catch (err) {
      if (ConnectError.from(err).code === Code.Unauthenticated) return invalidToken(c);
      throw err; // the gateway's error handler: HTTP 500
    }
    return c.json(rows);
  });

  app.post("/update", async (c) => {
    const p = await legacyParams(c);
    const forbidden = () => c.body(null, 403);
    if (p.op !== "0" || !p.filename) return forbidden();
    if (!(await authorized(p))) return invalidToken(c);
    const sha1 = (p.filehash ?? "").toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(sha1)) return forbidden();
    try {
      const { files: found } = await files.listFiles(
        { allFolders: true, sha1, sort: SortField.UPDATED_AT, descending: true, pageSize: 1 },
        call(c, p.token as string),
      );
      const file = found[0];
      if (!file) return c.body(null, 404);
      await files.renameFile({ id: file.id, name: p.filename }, call(c, p.token as string));
      return c.json([]);
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.InvalidArgument) return forbidden();
      if (e.code === Code.AlreadyExists) return c.json({ code: LegacyCode.fileExists, msg: e.rawMessage });
      if (e.code === Code.NotFound) return c.body(null, 404);
      if (e.code === Code.Unauthenticated) return invalidToken(c);
      throw err;
    }
  });

  app.post("/fastupload", async (c) => {
    const p = await legacyParams(c);
    if (!(await authorized(p))) return invalidToken(c);
    try {
      await upload.linkBySha1(
        { sha1: p.filehash ?? "", size: sizeParam(p.filesize) ?? 0n, name: p.filename ?? "" },
        call(c, p.token as string),
      );
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.NotFound || e.code === Code.InvalidArgument)
        return c.json({ code: -1, msg: e.rawMessage });
      if (e.code === Code.Unauthenticated) return invalidToken(c);
      return c.json({ code: -2, msg: serverFailureMessage(c, err) });
    }
  });

  app.post("/mpupload/init", async (c) => {
    const p = await legacyParams(c);
    if (!(await authorized(p))) return invalidToken(c);
    const size = sizeParam(p.filesize);
    const sha1 = (p.filehash ?? "").toLowerCase();
    if (size === undefined || !/^[0-9a-f]{40}$/.test(sha1)) {
      return c.json({
        code: -1,
        msg: "params invalid: filehash is the SHA-1 (40 hex digits), filesize a byte count",
      });
    }
    try {
      // The legacy flow names the file only at completion: the hash stands in until then.
      const s = await upload.createUploadSession(
        // The legacy protocol's 5 MiB chunks (its clients may count on them).
        { name: sha1, size, sha1, resume: true, partSize: BigInt(5 * 1024 * 1024) },
        call(c, p.token as string),
      );
      const { parts } = await upload.listParts({ sessionId: s.sessionId }, call(c, p.token as string));
      // Only whole chunks exist for the client: a shorter one (a broken upload) must be sent again.
      const whole = (n: number) =>
        n < s.partCount ? s.partSize : size - s.partSize * BigInt(s.partCount - 1);
      return c.json({
        code: 0,
        msg: "OK",
        data: {
          FileHash: sha1,
          FileSize: Number(size),
          UploadID: s.sessionId,
          ChunkSize: Number(s.partSize),
          ChunkCount: s.partCount,
          ChunkExists: parts.filter((x) => x.size === whole(x.partNumber)).map((x) => x.partNumber),
        },
      });
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.InvalidArgument) return c.json({ code: -1, msg: e.rawMessage });
      // The server's storage is full, or the user has too many uploads open (the message says which).
      if (e.code === Code.ResourceExhausted) return c.json({ code: -4, msg: e.rawMessage });
      return c.json({ code: -2, msg: serverFailureMessage(c, err) });
    }
  });

  app.post("/mpupload/uppart", async (c) => {
    // The chunk is the raw body: parameters come from the query string only.
    const p = c.req.query();
    if (!(await authorized(p))) return invalidToken(c);
    const id = p.uploadid ?? "";
    const index = p.index ?? "";
    const headers = new Headers(c.req.raw.headers);
    headers.set("authorization", `Bearer ${p.token}`);
    if (p.chkhash) headers.set("x-content-sha1", p.chkhash);
    const res = await toWorker(
      c,
      new Request(c.req.raw, { method: "PUT", headers }),
      `${SESSIONS_PATH}/${encodeURIComponent(id)}/parts/${encodeURIComponent(index)}`,
      "upload",
      opts.upload,
    );
    if (res instanceof ConnectError) return c.json({ code: -6, msg: res.rawMessage });
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    if (res.ok) return c.json({ code: 0, msg: "OK" });
    if (res.status === 401) return invalidToken(c);
    // -6: the server failed (its storage full, a service down): the message says which.
    if (res.status >= 500) return c.json({ code: -6, msg: body.message ?? "upload part failed" });
    // -2: the chunk did not verify (hash or size); -1: the request was wrong (id, index).
    const verify = /SHA-1|SHA-256|must be \d+ bytes|larger than/.test(body.message ?? "");
    return c.json({ code: verify ? -2 : -1, msg: body.message ?? "upload part failed" });
  });

  app.post("/mpupload/complete", async (c) => {
    const p = await legacyParams(c);
    if (!(await authorized(p))) return invalidToken(c);
    try {
      await upload.completeUploadSession(
        { sessionId: p.uploadid ?? "", name: p.filename ?? "" },
        call(c, p.token as string),
      );
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.FailedPrecondition || e.code === Code.InvalidArgument)
        return c.json({ code: -2, msg: e.rawMessage });
      if (e.code === Code.NotFound) return c.json({ code: -1, msg: e.rawMessage });
      return c.json({ code: -6, msg: serverFailureMessage(c, err) });
    }
  });

  app.post("/mpupload/cancel", async (c) => {
    const p = await legacyParams(c);
    if (!(await authorized(p))) return invalidToken(c);
    try {
      await upload.abortUploadSession({ sessionId: p.uploadid ?? "" }, call(c, p.token as string));
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.NotFound || e.code === Code.InvalidArgument)
        return c.json({ code: -1, msg: e.rawMessage });
      return c.json({ code: -3, msg: serverFailureMessage(c, err) });
    }
  });

  legacyDownloadRoutes(app, opts, { authorized, call, invalidToken });

  app.post("/upload", async (c) => {
    const p = c.req.query();
    let req = c.req.raw;
    if (p.token !== undefined) {
      if (!(await authorized(p))) return invalidToken(c);
    } else {
      // Username and token as form fields before the file: the one body read before the sender is known,
      // at most MAX_FIELDS_BYTES of it (the worker checks them again).
      try {
        const { fields, request } = await fieldsBeforeFile(req);
        if (!(await authorized({ username: fields.username ?? p.username ?? "", token: fields.token ?? "" })))
          return invalidToken(c);
        req = request;
      } catch (err) {
        if (!(err instanceof FormFieldsError)) throw err;
        return c.json({ code: LegacyCode.tokenInvalid, msg: err.message });
      }
    }
    // The rest of the multipart body streams on to the worker unread. sha1=now: the client gets the SHA-1
    // as its filehash and may fast-upload by it right away, so it is computed on the request.
    const query = new URL(c.req.url).searchParams;
    query.set("sha1", "now");
    const res = await toWorker(c, req, `${FORM_PATH}?${query}`, "upload", opts.upload);
    if (res instanceof ConnectError) return c.json({ code: -6, msg: res.rawMessage });
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    if (res.status === 201) return c.json({ code: 0, msg: "OK" });
    if (res.status === 401) return invalidToken(c);
    // -1: the request was wrong (no file field, bad name, too large); -6: the server failed (its storage
    // full, a service down: the message says which, with the request id).
    return c.json({
      code: res.status >= 400 && res.status < 500 ? -1 : -6,
      msg: body.message ?? "upload failed",
    });
  });
  return app;
}
