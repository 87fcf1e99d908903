// MKCOL, DELETE, COPY and MOVE (RFC 4918 9.3, 9.6, 9.8, 9.9) through FileService: DELETE moves to the
// trash, COPY links content (no bytes copied; a folder with its subtree), MOVE renames and moves.
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { BadPathError, type DavPath, parseDavPath, rawPathOf } from "./paths.ts";
import { text } from "./status.ts";
import { type Entry, resolvePath, type TreeCtx } from "./tree.ts";
import { davError } from "./xml.ts";

/** True when the request carries at least one byte of body (however it is framed: a hop may re-chunk it). */
async function hasBody(req: Request): Promise<boolean> {
  if (!req.body) return false;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return false;
    if (value.byteLength > 0) {
      await reader.cancel().catch(() => {});
      return true;
    }
  }
}

export async function mkcol(ctx: TreeCtx, req: Request, names: string[]): Promise<Response> {
  if (await hasBody(req)) return text(415, "MKCOL takes no body");
  if (names.length === 0) return text(405, "the root exists");
  const { parent, entry } = await resolvePath(ctx, names);
  if (entry) return text(405, "something of that name exists here");
  if (!parent) return text(409, "the parent folder does not exist");
  await ctx.files.createFolder({ parentId: parent.id, name: names[names.length - 1] }, ctx.call);
  return text(201, "created");
}

export async function remove(ctx: TreeCtx, entry: Entry): Promise<Response> {
  if (!entry.file) return text(403, "the root cannot be deleted");
  await ctx.files.deleteFile({ id: entry.id }, ctx.call);
  return text(204, "");
}

/** The Destination header as a DAV path of this server, or the answer that refuses it. */
export function destinationOf(req: Request): DavPath | Response {
  const raw = req.headers.get("destination");
  if (!raw) return text(400, "COPY and MOVE need a Destination header");
  let host: string;
  let path: string;
  if (raw.startsWith("/")) {
    host = "";
    path = raw;
  } else {
    try {
      host = new URL(raw).host;
    } catch {
      return text(400, "Destination is not a URL");
    }
    path = rawPathOf(raw);
  }
  // The gateway names the host the client addressed (X-Forwarded-Host); a direct caller, the Host header.
  const own = req.headers.get("x-forwarded-host") ?? req.headers.get("host") ?? new URL(req.url).host;
  if (host && host !== own) return text(502, "Destination is on another server");
  try {
    const dest = parseDavPath(path);
    if (!dest) return text(502, "Destination is outside WebDAV");
    return dest;
  } catch (err) {
    if (err instanceof BadPathError) return text(400, err.message);
    throw err;
  }
}

/** COPY and MOVE. `user`: the caller's name, which a /remote.php/dav/files/<user>/ destination must name. */
export async function copyOrMove(
  ctx: TreeCtx,
  req: Request,
  from: { names: string[]; entry: Entry },
  username: string,
  move: boolean,
): Promise<Response> {
  const dest = destinationOf(req);
  if (dest instanceof Response) return dest;
  if (dest.user !== undefined && dest.user !== username) return text(403, "Destination is another user's");
  const src = from.entry;
  if (!src.file) return text(403, "the root cannot be copied or moved");
  const depth = (req.headers.get("depth") ?? "infinity").toLowerCase();
  if (depth !== "0" && depth !== "infinity") return text(400, "Depth must be 0 or infinity");
  if (move && src.folder && depth !== "infinity")
    return text(400, "MOVE of a collection needs Depth infinity");
  const same = dest.names.length === from.names.length && dest.names.every((n, i) => n === from.names[i]);
  if (same) return text(403, "source and destination are the same");
  if (src.folder && dest.names.length > from.names.length && from.names.every((n, i) => n === dest.names[i]))
    return text(409, "a folder cannot go into itself");
  if (dest.names.length === 0) return text(403, "the root cannot be replaced");
  const { parent, entry: existing } = await resolvePath(ctx, dest.names);
  if (!parent) return text(409, "the destination's parent folder does not exist");
  const overwrite = (req.headers.get("overwrite") ?? "T").toUpperCase();
  if (overwrite !== "T" && overwrite !== "F") return text(400, "Overwrite must be T or F");
  if (existing) {
    if (overwrite === "F") return davError(412, "cannot-overwrite", "the destination exists (Overwrite: F)");
    await ctx.files.deleteFile({ id: existing.id }, ctx.call);
  }
  const name = dest.names[dest.names.length - 1];
  if (!move) {
    if (src.folder && depth === "0") await ctx.files.createFolder({ parentId: parent.id, name }, ctx.call);
    else
      await ctx.files.copyFile(
        { id: src.id, newParentId: parent.id, name, onConflict: ConflictPolicy.FAIL },
        ctx.call,
      );
  } else {
    const file = src.file;
    if (file.parentId === parent.id) await ctx.files.renameFile({ id: src.id, name }, ctx.call);
    else if (file.name === name) await ctx.files.moveFile({ id: src.id, newParentId: parent.id }, ctx.call);
    else {
      // Two steps (FileService moves and renames separately): rename where the new name is free first.
      await ctx.files.renameFile({ id: src.id, name }, ctx.call);
      await ctx.files.moveFile({ id: src.id, newParentId: parent.id }, ctx.call);
    }
  }
  return existing ? text(204, "") : text(201, "created");
}
