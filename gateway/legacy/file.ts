// Legacy file routes (shared/LEGACY_API.md) as thin adapters over the upload, file and download workers.
// Parameters come from the query string or the form body; username and token are checked (the token must
// be valid and name that user). What each route answers for an error: LEGACY_ERRORS (errors.ts).
//   POST /file/query              limit: bare JSON array of the caller's files, newest first, trash excluded
//   POST /file/update             op=0, filehash (SHA-1), filename: renames the caller's (newest) file with
//                                 that content; bare [] on success, 403 with an empty body for another op,
//                                 an empty or invalid name or a malformed hash (as the original), 404 empty
//                                 when the caller has no such file, {code:10006} when the name is taken
//                                                                                      (query.ts)
//   POST /file/upload             multipart field "file"; username and token in the query string, or as
//                                 form fields before the file (read here from at most the first 64 KiB;
//                                 the file streams on unread)                          (upload.ts)
//   POST /file/fastupload         filehash (SHA-1), filename, filesize: hit {code:0}, miss {code:-1}
//                                                                                      (upload.ts)
//   POST /file/mpupload/init      filehash, filesize → UploadID, ChunkSize, ChunkCount, ChunkExists (resume);
//                                 -4 when the server's storage is full or the user has too many uploads open
//   POST /file/mpupload/uppart    uploadid, index (1-based), optional chkhash (SHA-1); body = the chunk;
//                                 -2 when the chunk does not verify
//   POST /file/mpupload/complete  uploadid, filehash, filesize, filename: -2 when chunks are missing
//   POST /file/mpupload/cancel    uploadid                                             (mpupload.ts)
//   POST /file/downloadurl        filehash → a signed link as plain text (no login token inside)
//   GET  /file/download           filehash → the bytes (Range, conditional requests) of the caller's file
//                                                                                      (download.ts)
import { Hono } from "hono";
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import type { Upstream } from "../upstreams.ts";
import { type Env, legacyAuth } from "./auth.ts";
import { legacyDownloadRoutes } from "./download.ts";
import { legacyMultipartRoutes } from "./mpupload.ts";
import { legacyQueryRoutes } from "./query.ts";
import { legacyUploadRoutes } from "./upload.ts";

export interface LegacyFileOptions {
  upload: Upstream;
  file: Upstream;
  download: Upstream;
  verifier: AccessTokenVerifier;
}

export function legacyFileRoutes(opts: LegacyFileOptions) {
  const app = new Hono<Env>();
  const auth = legacyAuth(opts.verifier);
  legacyQueryRoutes(app, opts.file, auth);
  legacyUploadRoutes(app, opts.upload, auth);
  legacyMultipartRoutes(app, opts.upload, auth);
  legacyDownloadRoutes(app, opts.download, auth);
  return app;
}
