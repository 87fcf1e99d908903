// POST /file/query and POST /file/update: the caller's files, listed and renamed through the file worker.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Hono } from "hono";
import { FileService, SortField } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type Upstream, upstreamClient } from "../upstreams.ts";
import type { Env, LegacyAuth } from "./auth.ts";
import { legacyError, tokenInvalid } from "./errors.ts";
import { legacyParams, legacyTime } from "./params.ts";

/** Most rows one /file/query returns (the home page asks for 15). */
const MAX_QUERY_LIMIT = 10_000;

export function legacyQueryRoutes(app: Hono<Env>, file: Upstream, auth: LegacyAuth) {
  const files = upstreamClient(FileService, file);

  // limit: a bare JSON array of the caller's files, newest first, trash excluded.
  app.post("/query", async (c) => {
    const p = await legacyParams(c);
    if (!(await auth.authorized(p))) return tokenInvalid(c);
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
          auth.call(c, p.token as string),
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
      return legacyError(c, "query", err);
    }
    return c.json(rows);
  });

  // op=0, filehash (SHA-1), filename: renames the caller's (newest) file with that content.
  app.post("/update", async (c) => {
    const p = await legacyParams(c);
    const forbidden = () => c.body(null, 403);
    if (p.op !== "0" || !p.filename) return forbidden();
    if (!(await auth.authorized(p))) return tokenInvalid(c);
    const sha1 = (p.filehash ?? "").toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(sha1)) return forbidden();
    try {
      const { files: found } = await files.listFiles(
        { allFolders: true, sha1, sort: SortField.UPDATED_AT, descending: true, pageSize: 1 },
        auth.call(c, p.token as string),
      );
      const file = found[0];
      if (!file) return c.body(null, 404);
      await files.renameFile({ id: file.id, name: p.filename }, auth.call(c, p.token as string));
      return c.json([]);
    } catch (err) {
      return legacyError(c, "update", err, {
        plain: { forbidden, "not-found": () => c.body(null, 404) },
      });
    }
  });
}
