// POST /file/upload (a multipart form streamed on to the upload worker) and POST /file/fastupload (an
// instant upload by SHA-1: a hit only for content the caller may have).
import type { Hono } from "hono";
import { FORM_PATH } from "../../core/data-paths.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { FormFieldsError, fieldsBeforeFile } from "../data/form-fields.ts";
import { type Upstream, upstreamClient } from "../upstreams.ts";
import { type Env, type LegacyAuth, toWorker } from "./auth.ts";
import { legacyError, tokenInvalid, workerError } from "./errors.ts";
import { LegacyCode, legacyParams, sizeParam } from "./params.ts";

export function legacyUploadRoutes(app: Hono<Env>, upstream: Upstream, auth: LegacyAuth) {
  const upload = upstreamClient(UploadService, upstream);

  // Multipart field "file"; username and token in the query string, or as form fields before the file
  // (read here from at most the first 64 KiB; the file streams on unread).
  app.post("/upload", async (c) => {
    const p = c.req.query();
    let req = c.req.raw;
    if (p.token !== undefined) {
      if (!(await auth.authorized(p))) return tokenInvalid(c);
    } else {
      // Username and token as form fields before the file: the one body read before the sender is known,
      // at most MAX_FIELDS_BYTES of it (the worker checks them again).
      try {
        const { fields, request } = await fieldsBeforeFile(req);
        const who = { username: fields.username ?? p.username ?? "", token: fields.token ?? "" };
        if (!(await auth.authorized(who))) return tokenInvalid(c);
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
    // The legacy API never had folders: a name uploaded again keeps both ("name (2).ext").
    query.set("on_conflict", "rename");
    const res = await toWorker(c, req, `${FORM_PATH}?${query}`, "upload", upstream);
    if (!(res instanceof Response)) return legacyError(c, "upload", res);
    if (res.status === 201) {
      await res.arrayBuffer().catch(() => undefined);
      return c.json({ code: 0, msg: "OK" });
    }
    return legacyError(c, "upload", await workerError(res, "upload failed"), { answered: true });
  });

  // filehash (SHA-1), filename, filesize: hit {code:0}, miss {code:-1}.
  app.post("/fastupload", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return tokenInvalid(c);
    try {
      await upload.linkBySha1(
        {
          sha1: p.filehash ?? "",
          size: sizeParam(p.filesize) ?? 0n,
          name: p.filename ?? "",
          onConflict: ConflictPolicy.RENAME,
        },
        auth.call(c, p.token as string),
      );
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      return legacyError(c, "fastupload", err);
    }
  });
}
