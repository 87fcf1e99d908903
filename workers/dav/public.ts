// A `view` share link as an anonymous, read-only WebDAV root (/public.php/webdav/, as Nextcloud serves
// public links): Basic credentials are the share id and the link's password (empty when it has none),
// exchanged through ShareService.OpenShare (its rate limits and checks) for a share token, cached until it
// expires. Everything goes through ShareService as a visitor of the link: names are resolved by listing
// the shared folders, a GET mints a counted download URL (CreateShareDownloadUrl) and streams it from the
// download plane with the client's Range. Writes are refused (403).
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ExpiringCache } from "../../core/cache.ts";
import { FileKind, FileSchema } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { ItemKind, type ShareItem, ShareMode } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { AuthError, basicPair, sha256Hex } from "./auth.ts";
import { fromDownloadPlane } from "./bytes.ts";
import type { DavClients } from "./clients.ts";
import { BadPathError, decodeName, hrefOf } from "./paths.ts";
import { propRequestOf } from "./propfind.ts";
import { responseXml } from "./props.ts";
import { text } from "./status.ts";
import type { Entry } from "./tree.ts";
import { davError, NAMESPACE_DECLS, parseXml, readBodyText } from "./xml.ts";

export const PUBLIC = "/public.php/webdav/";
const PAGE = 1000;

export interface PublicDeps {
  clients: Pick<DavClients, "shares" | "download">;
  /** Share tokens by SHA-256 of the Basic credentials, until they expire. */
  shareTokens: ExpiringCache<string, { token: string; root: ShareItem }>;
  now: () => number;
}

/** The names below /public.php/webdav/; undefined for other paths. */
export function parsePublicPath(raw: string): string[] | undefined {
  if (raw === "/public.php/webdav") return [];
  if (!raw.startsWith(PUBLIC)) return undefined;
  const rest = raw.slice(PUBLIC.length).replace(/\/$/, "");
  if (rest === "") return [];
  return rest.split("/").map((n) => {
    if (n === "") throw new BadPathError("the path has an empty segment (//)");
    return decodeName(n);
  });
}

const entryOf = (item: ShareItem): Entry => {
  const folder = item.kind === ItemKind.FOLDER;
  const file = create(FileSchema, {
    id: item.id,
    name: item.name,
    kind: folder ? FileKind.FOLDER : FileKind.FILE,
    size: item.size,
    createdAt: item.updatedAt,
    updatedAt: item.updatedAt,
  });
  return { id: item.id, folder, file };
};

/** The share token and shared item of the Basic credentials (share id : password), via OpenShare. */
async function openLink(deps: PublicDeps, req: Request, clientIp: string) {
  const header = req.headers.get("authorization") ?? "";
  if (!/^basic /i.test(header)) throw new AuthError("a share link's id and password are needed (HTTP Basic)");
  const [id, password] = basicPair(header);
  const key = await sha256Hex(`${id}\0${password}`);
  const cached = deps.shareTokens.get(key);
  if (cached) return cached;
  let opened: Awaited<ReturnType<typeof deps.clients.shares.openShare>>;
  try {
    opened = await deps.clients.shares.openShare(
      { id, password },
      { headers: { "x-forwarded-for": clientIp } },
    );
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.ResourceExhausted)
      throw new AuthError(err.rawMessage, 429);
    if (
      err instanceof ConnectError &&
      [Code.NotFound, Code.PermissionDenied, Code.Unauthenticated].includes(err.code)
    )
      throw new AuthError("no such share link, or a wrong password");
    throw err;
  }
  if (opened.mode !== ShareMode.VIEW || !opened.item) throw new AuthError("this link is upload-only", 403);
  const link = { token: opened.shareToken, root: opened.item };
  const until = opened.tokenExpiresAt ? timestampMs(opened.tokenExpiresAt) - 30_000 : deps.now();
  deps.shareTokens.set(key, link, until);
  return link;
}

/** Every item of a shared folder, a page at a time (`onPage` for each). */
async function eachPage(
  deps: PublicDeps,
  token: string,
  folderId: string,
  /** True stops the walk (the item looked for was found). */
  onPage: (items: ShareItem[]) => boolean,
) {
  let pageToken = "";
  do {
    const page = await deps.clients.shares.listShareItems({
      shareToken: token,
      folderId,
      pageSize: PAGE,
      pageToken,
    });
    if (onPage(page.items) === true) return;
    pageToken = page.nextPageToken;
  } while (pageToken);
}

/** The item at `names` below the shared item, or undefined. A shared file is the root's only child. */
async function resolve(deps: PublicDeps, token: string, root: ShareItem, names: string[]) {
  if (root.kind !== ItemKind.FOLDER)
    return names.length === 0
      ? { item: root, isRoot: true }
      : names.length === 1 && names[0] === root.name
        ? { item: root }
        : undefined;
  let at = root;
  for (const name of names) {
    if (at.kind !== ItemKind.FOLDER) return undefined;
    let hit: ShareItem | undefined;
    await eachPage(deps, token, at === root ? "" : at.id, (items) => {
      hit = items.find((i) => i.name === name);
      return hit !== undefined;
    });
    if (!hit) return undefined;
    at = hit;
  }
  return { item: at, isRoot: names.length === 0 };
}

export async function servePublic(deps: PublicDeps, req: Request, names: string[], clientIp: string) {
  const { token, root } = await openLink(deps, req, clientIp);
  if (req.method !== "PROPFIND" && req.method !== "GET" && req.method !== "HEAD")
    return text(403, "a share link is read-only");
  const found = await resolve(deps, token, root, names);
  if (!found) return text(404, "not found");
  // A shared file is served as a folder holding it, so that a WebDAV client can mount the link.
  const fileShare = root.kind !== ItemKind.FOLDER;
  const self: Entry = found.isRoot ? { id: "", folder: true } : entryOf(found.item);
  if (req.method !== "PROPFIND") {
    if (self.folder) return text(405, "a folder has no content: PROPFIND lists it");
    return download(deps, req, token, fileShare ? "" : found.item.id);
  }
  const depth = (req.headers.get("depth") ?? "infinity").trim();
  if (depth !== "0" && depth !== "1")
    return davError(403, "propfind-finite-depth", "PROPFIND answers Depth 0 or 1 only");
  const request = propRequestOf(parseXml(await readBodyText(req)));
  let xml = responseXml(hrefOf(PUBLIC, names, self.folder), self, request, undefined, undefined);
  if (depth === "1" && self.folder) {
    const child = (item: ShareItem) => {
      const e = entryOf(item);
      xml += responseXml(hrefOf(PUBLIC, [...names, item.name], e.folder), e, request, undefined, undefined);
    };
    if (fileShare) child(root);
    else
      await eachPage(deps, token, found.isRoot ? "" : found.item.id, (items) => {
        items.forEach(child);
        return false;
      });
  }
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus ${NAMESPACE_DECLS}>${xml}</d:multistatus>`;
  return new Response(body, { status: 207, headers: { "content-type": "application/xml; charset=utf-8" } });
}

/** A GET/HEAD of a shared file: a counted download URL, fetched from the download plane with the Range. */
async function download(deps: PublicDeps, req: Request, token: string, fileId: string) {
  const { url } = await deps.clients.shares.createShareDownloadUrl({ shareToken: token, fileId });
  const at = new URL(url, deps.clients.download.url);
  return fromDownloadPlane(deps.clients.download, req, at.pathname + at.search);
}
