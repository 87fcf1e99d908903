// The legacy multipart upload over an upload session of the upload worker:
//   POST /file/mpupload/init      filehash, filesize → UploadID, ChunkSize, ChunkCount, ChunkExists (resume)
//   POST /file/mpupload/uppart    uploadid, index (1-based), optional chkhash (SHA-1); body = the chunk
//   POST /file/mpupload/complete  uploadid, filehash, filesize, filename
//   POST /file/mpupload/cancel    uploadid
// (their error codes: LEGACY_ERRORS in errors.ts).
import type { Hono } from "hono";
import { SESSIONS_PATH } from "../../core/data-paths.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { type Upstream, upstreamClient } from "../upstreams.ts";
import { type Env, type LegacyAuth, toWorker } from "./auth.ts";
import { legacyError, tokenInvalid, workerError } from "./errors.ts";
import { legacyParams, sizeParam } from "./params.ts";

/** The legacy protocol's 5 MiB chunks (its clients may count on them). */
const CHUNK_SIZE = 5 * 1024 * 1024;

export function legacyMultipartRoutes(app: Hono<Env>, upstream: Upstream, auth: LegacyAuth) {
  const upload = upstreamClient(UploadService, upstream);

  app.post("/mpupload/init", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return tokenInvalid(c);
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
        // The legacy API never had folders: a taken name keeps both ("name (2).ext").
        {
          name: sha1,
          size,
          sha1,
          resume: true,
          partSize: BigInt(CHUNK_SIZE),
          onConflict: ConflictPolicy.RENAME,
        },
        auth.call(c, p.token as string),
      );
      const { parts } = await upload.listParts({ sessionId: s.sessionId }, auth.call(c, p.token as string));
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
      return legacyError(c, "mpuploadInit", err);
    }
  });

  app.post("/mpupload/uppart", async (c) => {
    // The chunk is the raw body: parameters come from the query string only.
    const p = c.req.query();
    if (!(await auth.authorized(p))) return tokenInvalid(c);
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
      upstream,
    );
    if (!(res instanceof Response)) return legacyError(c, "mpuploadPart", res);
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return c.json({ code: 0, msg: "OK" });
    }
    return legacyError(c, "mpuploadPart", await workerError(res, "upload part failed"), { answered: true });
  });

  app.post("/mpupload/complete", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return tokenInvalid(c);
    try {
      await upload.completeUploadSession(
        { sessionId: p.uploadid ?? "", name: p.filename ?? "" },
        auth.call(c, p.token as string),
      );
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      return legacyError(c, "mpuploadComplete", err);
    }
  });

  app.post("/mpupload/cancel", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return tokenInvalid(c);
    try {
      await upload.abortUploadSession({ sessionId: p.uploadid ?? "" }, auth.call(c, p.token as string));
      return c.json({ code: 0, msg: "OK" });
    } catch (err) {
      return legacyError(c, "mpuploadCancel", err);
    }
  });
}
