// Nextcloud chunked upload v2 (docs.nextcloud.com, client_apis/WebDAV/chunking) on the upload sessions of
// workers/upload: MKCOL /remote.php/dav/uploads/<user>/<transfer> opens a transfer, PUT …/<n> (1..10000,
// with OC-Total-Length) sends chunk n as part n of one session — the first chunk creates it, with its
// length as the part size, so chunks are of one size but the last (as rclone and Nextcloud's clients send
// them); each part is written at its offset, nothing is copied again at the end — MOVE …/.file with a
// Destination completes the session into that path (a missing chunk: 400, nothing stored, the transfer
// stays), DELETE of the folder aborts it. A re-sent chunk replaces the part (resume). Transfers are kept by
// meta (uploads-store.ts), so any replica serves any request of a transfer.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ANNOUNCED_LENGTH_HEADER, SESSIONS_PATH } from "../../core/data-paths.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { MAX_PART_SIZE, MIN_PART_SIZE } from "../meta/part-sizes.ts";
import type { Caller } from "./auth.ts";
import type { DavClients } from "./clients.ts";
import { BadPathError, decodeName, UPLOADS } from "./paths.ts";
import { planeStatusOf, text } from "./status.ts";
import { resolvePath, type TreeCtx } from "./tree.ts";
import { destinationOf } from "./tree-ops.ts";
import type { Transfer, TransferStore } from "./uploads-store.ts";
import { davError } from "./xml.ts";

const MAX_CHUNKS = 10_000;

export interface UploadPath {
  user: string;
  transfer: string;
  /** A chunk's number, ".file", or undefined for the transfer folder itself. */
  chunk?: string;
}

/** /remote.php/dav/uploads/<user>/<transfer>[/<chunk>] taken apart; undefined for other paths. */
export function parseUploadPath(raw: string): UploadPath | undefined {
  if (!raw.startsWith(UPLOADS)) return undefined;
  const parts = raw.slice(UPLOADS.length).replace(/\/$/, "").split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === ""))
    throw new BadPathError("an upload path is /remote.php/dav/uploads/<user>/<transfer id>[/<chunk>]");
  const [user, transfer, chunk] = parts.map(decodeName) as [string, string, string | undefined];
  return { user, transfer, chunk };
}

export interface ChunkedCtx {
  tree: TreeCtx;
  clients: Pick<DavClients, "sessions" | "upload">;
  transfers: TransferStore;
  caller: Caller;
  clientIp: string;
  /** X-OC-Mtime on the assembled file (service.ts). */
  keepMtime: (req: Request, fileId: string) => Promise<boolean>;
}

/** OC-Total-Length as a size; undefined when absent, a 400 answer when malformed. */
function totalOf(req: Request): bigint | undefined | Response {
  const raw = req.headers.get("oc-total-length");
  if (raw === null) return undefined;
  if (!/^\d{1,15}$/.test(raw.trim())) return text(400, "OC-Total-Length must be a whole number of bytes");
  return BigInt(raw.trim());
}

/** 507 up front when `total` more bytes would not fit the caller's quota. */
async function overQuota(ctx: ChunkedCtx, total: bigint): Promise<Response | undefined> {
  const u = await ctx.tree.files.getUsage({}, ctx.tree.call);
  if (u.quotaBytes > 0n && u.usedBytes + u.reservedBytes + total > u.quotaBytes)
    return davError(507, "quota-not-exceeded", "the upload does not fit in your quota");
  return undefined;
}

export async function serveUpload(ctx: ChunkedCtx, req: Request, up: UploadPath): Promise<Response> {
  if (up.user !== ctx.caller.username) return text(403, "this is another user's upload folder");
  const owner = ctx.caller.userId;
  const total = totalOf(req);
  if (total instanceof Response) return total;
  const folderExists = text(405, "the upload folder exists");
  const missing = text(404, "no such upload folder (MKCOL it first)");
  if (req.method === "MKCOL" && up.chunk === undefined) {
    if (await ctx.transfers.get(owner, up.transfer)) return folderExists;
    if (total !== undefined) {
      const refused = await overQuota(ctx, total);
      if (refused) return refused;
    }
    return (await ctx.transfers.create(owner, up.transfer, total)) ? text(201, "created") : folderExists;
  }
  if (req.method === "DELETE" && up.chunk === undefined) {
    const gone = await ctx.transfers.delete(owner, up.transfer);
    if (!gone) return missing;
    if (gone.sessionId)
      await ctx.clients.sessions.abortUploadSession({ sessionId: gone.sessionId }, ctx.tree.call);
    return text(204, "");
  }
  const t = await ctx.transfers.get(owner, up.transfer);
  if (!t) return missing;
  if (req.method === "PUT" && up.chunk !== undefined) return putChunk(ctx, req, up, t, total);
  if (req.method === "MOVE" && up.chunk === ".file") return assemble(ctx, req, up.transfer, t, total);
  return text(405, `${req.method} is not part of a chunked upload here`, {
    allow: up.chunk === undefined ? "MKCOL, DELETE" : "PUT, MOVE",
  });
}

/**
 * The transfer with its session, created by its first chunk (`length` bytes of chunk n) when there is
 * none. Of two first chunks on two replicas one session is kept; the other replica aborts its own. A 404
 * answer when the transfer was deleted meanwhile.
 */
async function sessionOf(ctx: ChunkedCtx, up: UploadPath, t: Transfer, total: bigint, length: number) {
  if (t.sessionId) return t;
  let made: string | undefined;
  const stored = await ctx.transfers.withSession(ctx.caller.userId, up.transfer, async () => {
    // The first chunk's length is the part size (a lone chunk: the whole file); one outside the sizes a
    // session takes (under 5 MiB: a small file's only chunk) lets the upload service choose.
    const partSize = length >= MIN_PART_SIZE && length <= MAX_PART_SIZE ? BigInt(length) : 0n;
    const s = await ctx.clients.sessions.createUploadSession(
      { name: "upload.bin", parentId: "", size: total, partSize, onConflict: ConflictPolicy.REPLACE },
      ctx.tree.call,
    );
    made = s.sessionId;
    const expiresAtMs = s.expiresAt ? timestampMs(s.expiresAt) : Date.now() + 86_400_000;
    return {
      sessionId: s.sessionId,
      total,
      partSize: Number(s.partSize),
      partCount: s.partCount,
      expiresAtMs,
    };
  });
  if (made && stored?.sessionId !== made)
    await ctx.clients.sessions.abortUploadSession({ sessionId: made }, ctx.tree.call).catch(() => undefined);
  return stored?.sessionId ? stored : text(404, "the upload folder was deleted");
}

async function putChunk(ctx: ChunkedCtx, req: Request, up: UploadPath, t: Transfer, header?: bigint) {
  const chunk = up.chunk ?? "";
  const n = /^\d{1,5}$/.test(chunk) ? Number(chunk) : 0;
  if (n < 1 || n > MAX_CHUNKS) return text(400, `a chunk is named by its number, 1 to ${MAX_CHUNKS}`);
  const total = header ?? t.total;
  if (total === undefined) return text(400, "the first chunk needs OC-Total-Length");
  if (t.total !== undefined && total !== t.total)
    return text(400, "OC-Total-Length changed during the upload");
  // Behind the gateway's streamed forward the client's Content-Length arrives as the announced length.
  const announced = req.headers.get("content-length") ?? req.headers.get(ANNOUNCED_LENGTH_HEADER);
  const length = Number(announced ?? Number.NaN);
  if (!Number.isSafeInteger(length) || length < 0) return text(411, "a chunk needs a Content-Length");
  if (!t.sessionId && !ctx.transfers.pending(ctx.caller.userId, up.transfer)) {
    const refused = await overQuota(ctx, total);
    if (refused) return refused;
  }
  const withSession = await sessionOf(ctx, up, t, total, length);
  if (withSession instanceof Response) return withSession;
  const id = withSession.sessionId as string;
  const [size, count] = [withSession.partSize ?? 0, withSession.partCount ?? 0];
  const expected = n < count ? size : Number(total) - size * (count - 1);
  if (n > count) return text(400, `this upload has ${count} chunks of ${size} bytes`);
  if (length !== expected)
    return text(
      400,
      `chunk ${n} must be ${expected} bytes: chunks are of one size (${size}), the last smaller`,
    );
  const res = await ctx.clients.upload.fetch(
    new Request(new URL(`${SESSIONS_PATH}/${encodeURIComponent(id)}/parts/${n}`, ctx.clients.upload.url), {
      method: "PUT",
      headers: { ...ctx.tree.call.headers, "content-length": String(length) },
      body: req.body,
      signal: req.signal,
      duplex: "half",
    } as RequestInit),
  );
  if (!res.ok) return planeStatusOf(res);
  await res.body?.cancel();
  return text(201, "created");
}

async function assemble(ctx: ChunkedCtx, req: Request, transfer: string, t: Transfer, header?: bigint) {
  const dest = destinationOf(req);
  if (dest instanceof Response) return dest;
  if (dest.user !== undefined && dest.user !== ctx.caller.username)
    return text(403, "Destination is another user's");
  if (dest.names.length === 0) return text(403, "the root cannot be replaced");
  if (header !== undefined && t.total !== undefined && header !== t.total)
    return text(400, "OC-Total-Length is not the size the chunks were sent for");
  const id = t.sessionId;
  if (!id) return text(400, "no chunk was uploaded");
  const { parent, entry } = await resolvePath(ctx.tree, dest.names);
  if (!parent) return text(409, "the destination's parent folder does not exist");
  if (entry?.folder) return text(409, "a folder of that name exists");
  const { parts, partCount } = await ctx.clients.sessions.listParts({ sessionId: id }, ctx.tree.call);
  const have = new Set(parts.map((p) => p.partNumber));
  const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((k) => !have.has(k));
  if (missing.length)
    return text(400, `chunks missing: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}`);
  let done: Awaited<ReturnType<typeof ctx.clients.sessions.completeUploadSession>>;
  try {
    done = await ctx.clients.sessions.completeUploadSession(
      { sessionId: id, name: dest.names[dest.names.length - 1], parentId: parent.id },
      ctx.tree.call,
    );
  } catch (err) {
    // The bytes are not what the parts said (a chunk changed on its way): the client starts over.
    if (err instanceof ConnectError && err.code === Code.FailedPrecondition) return text(409, err.rawMessage);
    throw err;
  }
  await ctx.transfers.delete(ctx.caller.userId, transfer);
  const file = done.file;
  const headers: Record<string, string> = { "oc-fileid": file?.id ?? "", etag: `"${file?.sha256 ?? ""}"` };
  headers["oc-etag"] = headers.etag as string;
  if (file && (await ctx.keepMtime(req, file.id))) headers["x-oc-mtime"] = "accepted";
  return text(entry ? 204 : 201, entry ? "" : "created", headers);
}
