// The workers' data-plane paths (plain HTTP, beside the RPCs): the workers serve them, the gateway routes
// and checks them, its legacy routes call them. Written once here so both sides name the same paths.

/** PUT|POST: the body is the file. */
export const UPLOAD_PATH = "/upload/v1/files";
/**
 * The Content-Length a client announced for a body the gateway forwards: a runtime may stream it on
 * chunked (Deno's fetch does), and the upload worker holds the announced size of the caller's quota before
 * reading it (the size is checked against what arrives, like Content-Length).
 */
export const ANNOUNCED_LENGTH_HEADER = "x-announced-content-length";
/** POST multipart/form-data: the browser form (and the legacy /file/upload). */
export const FORM_PATH = "/upload/v1/form";
/** Upload sessions: PUT <SESSIONS_PATH>/<id>/parts/<n> sends part n. */
export const SESSIONS_PATH = "/upload/v1/sessions";
/**
 * Uploads into a drop share link (issue 18): PUT <DROP_PATH><share id>?name=N with the share token in
 * X-Share-Token. No login: the upload worker checks the token and the link.
 */
export const DROP_PATH = "/upload/v1/drop/";
/** The header that carries a share token on the data plane. */
export const SHARE_TOKEN_HEADER = "x-share-token";
/**
 * A drop link's multipart sessions: <DROP_PATH><share id>/sessions[/<id>[/complete | /parts/<n>]]
 * (workers/upload/drop-sessions.ts); this header carries the key that binds a session to its guest.
 */
export const DROP_SESSION_KEY_HEADER = "x-drop-session-key";
/** tus 1.0.0 uploads: <TUS_PATH>[<id>]. */
export const TUS_PATH = "/upload/v1/tus/";
/** Everything the download worker serves is under this prefix. */
export const DOWNLOAD_PREFIX = "/download/";
/** A download by file id: <FILES_PATH><id>. */
export const FILES_PATH = "/download/v1/files/";
/** A download by content SHA-1: <SHA1_PATH><hex>. */
export const SHA1_PATH = "/download/v1/by-sha1/";
/** A signed link: <LINKS_PATH><file id>?<link query>. */
export const LINKS_PATH = "/download/v1/links/";
/** A thumbnail, by a signed URL (DownloadService.GetThumbnails): <THUMBNAILS_PATH><sha256>/<px>?exp=…&sig=…. */
export const THUMBNAILS_PATH = "/download/v1/thumbnails/";
/** A folder as a ZIP, by a signed URL (DownloadService.CreateFolderZipUrl): <ZIP_PATH><folder id>?<link query>. */
export const ZIP_PATH = "/download/v1/zip/";
