// The WebDAV service: no RPCs of its own, a plain-HTTP handler for /dav/ and the ownCloud/Nextcloud
// aliases (/remote.php/webdav/, /remote.php/dav/files/<user>/), which the gateway forwards with bodies
// streamed. Classes 1 and 2 of RFC 4918 (locks: locks/).
import { Code, ConnectError } from "@connectrpc/connect";
import type { MetaClient } from "../lib/meta-client.ts";
import type { ServiceModule } from "../lib/server.ts";
import { type AuthDeps, AuthError, authenticate, forgetCredentials } from "./auth.ts";
import { getFile, putFile } from "./bytes.ts";
import { parseUploadPath, serveUpload, type UploadPath } from "./chunked.ts";
import { asCaller } from "./clients.ts";
import { lockDiscoveryOf } from "./locks/discovery.ts";
import type { LockDeps } from "./locks/guard.ts";
import { afterRemoval, guardMethod } from "./locks/hooks.ts";
import { lockMethod, unlockMethod } from "./locks/lock.ts";
import { BadPathError, type DavPath, hrefOf, isDavPath, parseDavPath, rawPathOf } from "./paths.ts";
import { propfind } from "./propfind.ts";
import { copyDeadProps, deadPropsOf, proppatch } from "./proppatch.ts";
import type { PropRequest } from "./props.ts";
import { type PublicDeps, parsePublicPath, servePublic } from "./public.ts";
import { davStatusOf, text } from "./status.ts";
import { resolvePath, type TreeCtx } from "./tree.ts";
import { copyOrMove, mkcol, remove } from "./tree-ops.ts";
import type { TransferStore } from "./uploads-store.ts";
import { BadXmlError, parseXml, readBodyText } from "./xml.ts";

export type DavDeps = AuthDeps & {
  meta: MetaClient;
  onError: (err: unknown) => void;
  /** Nextcloud chunked uploads in flight (chunked.ts). */
  transfers: TransferStore;
  /** Share links opened as WebDAV roots (public.ts). */
  shareTokens: PublicDeps["shareTokens"];
};

const ALLOW = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
const CHALLENGE = { "www-authenticate": 'Basic realm="filestore", charset="UTF-8"' };

function options(): Response {
  return new Response(null, {
    status: 200,
    headers: { dav: "1, 2", allow: ALLOW, "ms-author-via": "DAV", "content-length": "0" },
  });
}

async function dispatch(deps: DavDeps, req: Request, dav: DavPath, clientIp: string): Promise<Response> {
  const caller = await authenticate(deps, req, clientIp);
  if (dav.user !== undefined && dav.user !== caller.username)
    return text(403, "this is another user's drive");
  const call = asCaller(caller.token, clientIp);
  const ctx: TreeCtx = { files: deps.clients.files, call, meta: deps.meta, ownerId: caller.userId };
  const { parent, entry } = await resolvePath(ctx, dav.names);
  const name = dav.names[dav.names.length - 1] ?? "";
  const locks: LockDeps = { meta: deps.meta, ownerId: caller.userId, tree: ctx, now: deps.now };
  if (req.method !== "LOCK" && req.method !== "UNLOCK") {
    const stop = await guardMethod(locks, req, dav, entry);
    if (stop) return stop;
  }
  switch (req.method) {
    case "PROPFIND": {
      const body = await readBodyText(req);
      if (!entry) return text(404, "not found");
      const deadOf = (ids: string[]) => deadPropsOf(deps.meta, caller.userId, ids);
      const depth = req.headers.get("depth");
      const locksOf = (r: PropRequest) => lockDiscoveryOf(locks, dav.prefix, dav.names, r, depth);
      return propfind(ctx, entry, dav.names, dav.prefix, depth, body, deadOf, locksOf);
    }
    case "LOCK": {
      const body = await readBodyText(req);
      const createEmpty = async () =>
        (await putFile(deps.clients.upload, emptyPut(req), parent?.id ?? "", name, caller.token, clientIp))
          .res;
      return lockMethod(locks, req, body, { dav, entry, parent, createEmpty });
    }
    case "UNLOCK":
      return unlockMethod(locks, req, dav, entry);
    case "PROPPATCH": {
      const body = parseXml(await readBodyText(req));
      if (!entry) return text(404, "not found");
      return proppatch(deps.meta, caller.userId, entry, hrefOf(dav.prefix, dav.names, entry.folder), body);
    }
    case "GET":
    case "HEAD":
      if (!entry) return text(404, "not found");
      if (entry.folder) return text(405, "a folder has no content: PROPFIND lists it", { allow: ALLOW });
      return getFile(deps.clients.download, req, entry, caller.token, clientIp);
    case "PUT": {
      if (!parent) return text(409, "the parent folder does not exist");
      if (entry?.folder) return text(405, "a folder of that name exists");
      if (req.headers.has("content-range")) return text(400, "partial PUT (Content-Range) is not supported");
      const out = await putFile(deps.clients.upload, req, parent.id, name, caller.token, clientIp);
      if (out.res) return out.res;
      const headers: Record<string, string> = { etag: `"${out.sha256}"`, "oc-fileid": out.id ?? "" };
      headers["oc-etag"] = headers.etag as string;
      if (await keepMtime(deps.meta, req, caller.userId, out.id ?? "")) headers["x-oc-mtime"] = "accepted";
      return text(entry ? 204 : 201, entry ? "" : "created", headers);
    }
    case "MKCOL":
      return mkcol(ctx, req, dav.names);
    case "DELETE":
      if (!entry) return text(404, "not found");
      return afterRemoval(locks, dav.names, await remove(ctx, entry));
    case "COPY":
    case "MOVE":
      if (!entry) return text(404, "not found");
      if (req.method === "COPY") {
        const copied = (from: string, to: string) => copyDeadProps(deps.meta, caller.userId, from, to);
        return copyOrMove(ctx, req, { names: dav.names, entry }, caller.username, false, copied);
      }
      return afterRemoval(
        locks,
        dav.names,
        await copyOrMove(ctx, req, { names: dav.names, entry }, caller.username, true),
      );
    default:
      return text(405, `${req.method} is not a WebDAV method here`, { allow: ALLOW });
  }
}

/** The PUT of an empty body that a LOCK of an unmapped URL makes (RFC 4918 7.3). */
const emptyPut = (req: Request) =>
  new Request(req.url, { method: "PUT", headers: { "content-length": "0" } });

/**
 * X-OC-Mtime (seconds since the epoch, ownCloud's and rclone's way to keep a file's modification time): set
 * on the file just written. False when absent or unusable (the client then knows its time was not kept).
 */
export async function keepMtime(
  meta: MetaClient,
  req: Request,
  ownerId: string,
  fileId: string,
): Promise<boolean> {
  const raw = req.headers.get("x-oc-mtime");
  const seconds = raw === null ? Number.NaN : Number(raw);
  if (!fileId || !Number.isFinite(seconds) || seconds < 0) return false;
  try {
    await meta.setModifiedTime({ ownerId, fileId, modifiedAtMs: BigInt(Math.round(seconds * 1000)) });
    return true;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.InvalidArgument) return false;
    throw err;
  }
}

/** A request of a Nextcloud chunked upload (chunked.ts), as the caller. */
async function chunkedUpload(deps: DavDeps, req: Request, up: UploadPath, clientIp: string) {
  const caller = await authenticate(deps, req, clientIp);
  const call = asCaller(caller.token, clientIp);
  const tree: TreeCtx = { files: deps.clients.files, call, meta: deps.meta, ownerId: caller.userId };
  const keep = (r: Request, fileId: string) => keepMtime(deps.meta, r, caller.userId, fileId);
  const ctx = { tree, clients: deps.clients, transfers: deps.transfers, caller, clientIp, keepMtime: keep };
  return serveUpload(ctx, req, up);
}

/** The answer to one WebDAV request: every failure a status code (never a 500 for a client's mistake). */
export async function serveDav(deps: DavDeps, req: Request, clientIp: string): Promise<Response> {
  try {
    if (req.method === "OPTIONS") return options();
    const raw = rawPathOf(req.url);
    const shared = parsePublicPath(raw);
    if (shared) return await servePublic(deps, req, shared, clientIp);
    const upload = parseUploadPath(raw);
    const dav = upload ? undefined : parseDavPath(raw);
    if (!upload && !dav) return text(404, "not found");
    const res = upload
      ? await chunkedUpload(deps, req, upload, clientIp)
      : await dispatch(deps, req, dav as DavPath, clientIp);
    // A data plane refused the token (revoked meanwhile): the credentials are exchanged again next time.
    if (res.status === 401) await forgetCredentials(deps, req);
    return res;
  } catch (err) {
    if (err instanceof BadPathError) return text(400, err.message);
    if (err instanceof BadXmlError) return text(err.status, err.message);
    if (err instanceof AuthError)
      return text(err.status, err.message, err.status === 401 ? CHALLENGE : { "retry-after": "60" });
    if (err instanceof ConnectError) {
      if (err.code === Code.Unauthenticated) {
        await forgetCredentials(deps, req);
        return text(401, err.rawMessage, CHALLENGE);
      }
      const res = davStatusOf(err);
      if (res.status >= 500) deps.onError(err);
      return res;
    }
    deps.onError(err);
    return text(500, "internal error");
  }
}

export function davModule(deps: DavDeps): ServiceModule {
  return {
    services: [],
    routes() {},
    http(req, clientIp) {
      return isDavPath(rawPathOf(req.url)) ? serveDav(deps, req, clientIp) : undefined;
    },
  };
}
