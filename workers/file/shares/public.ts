// ShareService's visitor calls: open a link (password, rate limits), browse it, mint a counted download
// URL, save to one's drive. Every call with a token re-checks the link in meta (GetLiveShare), so a
// revoked, expired or edited link stops at once on every replica; nothing about a link is cached.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../../core/access-token.ts";
import { clientNetwork } from "../../../core/client-address.ts";
import { LINKS_PATH, ZIP_PATH } from "../../../core/data-paths.ts";
import { Reason, reasonError, reasonOf } from "../../../core/reasons.ts";
import type { FileRecord } from "../../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { GetLiveShareResponse, ShareRecord } from "../../../proto/gen/filestore/meta/v1/shares_pb.ts";
import {
  type CreateShareDownloadUrlRequest,
  ItemSort,
  type ListShareItemsRequest,
  type OpenShareRequest,
  type SaveShareToDriveRequest,
  ShareMode,
} from "../../../proto/gen/filestore/share/v1/share_pb.ts";
import { linkQuery, zipClaim } from "../../download/links.ts";
import { checkZipLimit } from "../../download/zip-limit.ts";
import { invalidArgument, permissionDenied } from "../../lib/errors.ts";
import type { ShareDownloadKind } from "../../lib/metrics/shares.ts";
import { signShareToken, verifyShareToken } from "../../lib/share-token.ts";
import { at, itemMessage, MODES, type ShareDeps } from "./deps.ts";

/** One answer for an unknown id, a wrong password, a revoked or expired link and a target gone. */
const noSuchShare = () =>
  reasonError(
    "no share link answers here (check the link and its password)",
    Code.NotFound,
    Reason.SHARE_NOT_FOUND,
  );
const limitReached = () =>
  reasonError("this link has no downloads left", Code.ResourceExhausted, Reason.SHARE_LIMIT_REACHED);
const badToken = () =>
  reasonError(
    "this share session has ended; open the link again",
    Code.Unauthenticated,
    Reason.SHARE_TOKEN_INVALID,
  );

/** An argon2id hash of nothing anyone types: unknown ids cost a verification too, so timing tells nothing. */
let decoy: Promise<string> | undefined;
const decoyHash = () => {
  decoy ??= Bun.password.hash(crypto.randomUUID(), { algorithm: "argon2id" });
  return decoy;
};

const isNotFound = (err: unknown) => ConnectError.from(err).code === Code.NotFound;

/** The link while it answers, else undefined. */
async function live(deps: ShareDeps, req: Parameters<ShareDeps["meta"]["getLiveShare"]>[0]) {
  try {
    return await deps.meta.getLiveShare(req);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function tooMany(deps: ShareDeps, keys: [string, number][]) {
  for (const [key, limit] of keys) {
    const w = await deps.limiter.peek(key);
    if (w.count >= limit) {
      deps.metrics?.opened("rate_limited");
      throw reasonError(
        `too many attempts to open share links; try again in ${w.resetInSeconds} s`,
        Code.ResourceExhausted,
        Reason.TOO_MANY_ATTEMPTS,
        { retry_after_seconds: String(w.resetInSeconds) },
      );
    }
  }
}

export async function openShare(deps: ShareDeps, req: OpenShareRequest, clientIp: string) {
  const c = deps.config;
  const id = /^[A-Za-z0-9_-]{22,64}$/.test(req.id) ? req.id : "";
  // encodeURIComponent is not needed: the id is base64url or "" (a malformed one counts under "").
  const keys: [string, number][] = [
    [`share:link:${id}`, c.openPerLink],
    [`share:client:${clientNetwork(clientIp)}`, c.openPerClient],
  ];
  await tooMany(deps, keys);
  const found = id ? await live(deps, { id }) : undefined;
  const hash = found?.share?.passwordHash ?? (await decoyHash());
  const ok = found?.share && (hash === "" || (await Bun.password.verify(req.password, hash)));
  if (!ok || !found?.share) {
    await Promise.all(keys.map(([key]) => deps.limiter.hit(key, c.openWindowSeconds)));
    deps.metrics?.opened("not_found");
    throw noSuchShare();
  }
  // Counted once the password holds; the row read again also proves it was not revoked meanwhile.
  const opened = await live(deps, { id, countView: true, withItem: true });
  const s = opened?.share;
  if (!s || !opened.item) {
    deps.metrics?.opened("not_found");
    throw noSuchShare();
  }
  deps.metrics?.opened("ok");
  const now = deps.now();
  const expires = Math.min(
    now + c.tokenTtlSeconds * 1000,
    s.expiresAtMs > 0n ? Number(s.expiresAtMs) : Infinity,
  );
  return {
    shareToken: await signShareToken(deps.tokenKey, { shareId: s.id, version: Number(s.version) }, expires),
    tokenExpiresAt: timestampFromMs(Math.floor(expires / 1000) * 1000),
    ownerDisplayName: s.ownerName,
    item: itemMessage(opened.item),
    mode: MODES[s.mode] ?? ShareMode.UNSPECIFIED,
    expiresAt: at(s.expiresAtMs),
    maxDownloads: s.maxDownloads,
    downloadsLeft: left(s),
    hasPassword: s.passwordHash !== "",
    maxFileBytes: s.maxFileBytes,
  };
}

const left = (s: Pick<ShareRecord, "maxDownloads" | "downloadCount">) =>
  s.maxDownloads > 0n ? (s.maxDownloads > s.downloadCount ? s.maxDownloads - s.downloadCount : 0n) : 0n;

/**
 * The token's link as it is now, with the entry `itemId` ("" : the target) inside it. NotFound (like an
 * unknown id) for an entry outside the share; SHARE_TOKEN_INVALID for a bad or outdated token.
 */
export async function resolveShareItem(
  deps: ShareDeps,
  token: string,
  itemId: string,
): Promise<Required<Pick<GetLiveShareResponse, "share" | "item">> & { chain: FileRecord[] }> {
  const claims = await verifyShareToken(deps.tokenKey, token, deps.now());
  if (!claims) throw badToken();
  let res: GetLiveShareResponse;
  try {
    res = await deps.meta.getLiveShare({ id: claims.shareId, withItem: true, itemId });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // Which of the two is gone (the link, or the entry inside it) decides the answer.
    if (await live(deps, { id: claims.shareId }))
      throw reasonError("no such file or folder in this share", Code.NotFound, Reason.SHARE_NOT_FOUND);
    throw noSuchShare();
  }
  const { share, item } = res;
  if (!share || !item) throw noSuchShare();
  if (Number(share.version) !== claims.version) throw badToken();
  if (share.mode !== "view")
    throw permissionDenied("this link only takes uploads: its contents are not shown");
  return { share, item, chain: res.chain };
}

const SORTS: Record<ItemSort, string> = {
  [ItemSort.UNSPECIFIED]: "name",
  [ItemSort.NAME]: "name",
  [ItemSort.SIZE]: "size",
  [ItemSort.UPDATED_AT]: "updated_at",
};

export async function listShareItems(deps: ShareDeps, req: ListShareItemsRequest) {
  const sort = SORTS[req.sort];
  if (!sort) throw invalidArgument("sort must be one of the ItemSort values");
  if (req.pageSize < 0) throw invalidArgument("page_size cannot be negative");
  const { share, item, chain } = await resolveShareItem(deps, req.shareToken, req.folderId);
  if (item.kind !== "folder") {
    if (req.folderId) throw invalidArgument("folder_id names a file, not a folder");
    return { items: [itemMessage(item)], nextPageToken: "", path: [] };
  }
  const res = await deps.meta.listFiles({
    ownerId: share.ownerId,
    parentId: item.id,
    sort,
    descending: req.descending,
    pageSize: req.pageSize,
    pageToken: req.pageToken,
  });
  return {
    items: res.files.map(itemMessage),
    nextPageToken: res.nextPageToken,
    path: chain.map(itemMessage),
  };
}

export async function createShareDownloadUrl(deps: ShareDeps, req: CreateShareDownloadUrlRequest) {
  const { share, item } = await resolveShareItem(deps, req.shareToken, req.fileId);
  if (item.kind === "folder") return folderZipUrl(deps, share, item.id);
  const t = await deps.meta.getDownloadTarget({ fileId: item.id, ownerId: share.ownerId });
  if (!t.file || !t.blob) throw noSuchShare();
  const counted = await consumeDownload(deps, share.id, "file");
  return {
    ...mint(deps, share.id, item.id, t.blob.sha256, Number(t.linkGeneration), req.inline),
    downloadsLeft: left(counted),
  };
}

/**
 * "Download all as ZIP" of the shared folder or a folder inside it: ONE download for the whole archive,
 * a URL of the ZIP route with the share id signed in (the download worker re-checks the share on each
 * request, as for files). The URL carries the folder's link generation, read here with its owner. A
 * folder past ZIP_MAX_ENTRIES, which the download worker would refuse, is refused first (ZIP_TOO_LARGE),
 * before a download is counted.
 */
async function folderZipUrl(deps: ShareDeps, share: ShareRecord, folderId: string) {
  const tree = await checkZipLimit(deps.meta, { folderId, ownerId: share.ownerId }, deps.zipMaxEntries);
  const counted = await consumeDownload(deps, share.id, "zip");
  const expires = urlExpiry(deps);
  const query = linkQuery(deps.linkKey, {
    fileId: folderId,
    sha256: zipClaim(share.ownerId),
    expires,
    generation: Number(tree.linkGeneration),
    shareId: share.id,
  });
  return {
    url: `${deps.publicUrl.replace(/\/+$/, "")}${ZIP_PATH}${encodeURIComponent(folderId)}?${query}`,
    expiresAt: timestampFromMs(expires * 1000),
    downloadsLeft: left(counted),
  };
}

const urlExpiry = (deps: ShareDeps) => Math.ceil((deps.now() + deps.config.urlTtlSeconds * 1000) / 1000);

/**
 * A download URL bound to the share (links.ts signs the share id with the rest): the download worker asks
 * meta about the share on every request of it. Never longer-lived than the share itself.
 */
function mint(
  deps: ShareDeps,
  shareId: string,
  fileId: string,
  sha256: string,
  generation: number,
  inline: boolean,
) {
  const expires = urlExpiry(deps);
  const query = linkQuery(deps.linkKey, { fileId, sha256, expires, generation, shareId });
  const path = `${LINKS_PATH}${encodeURIComponent(fileId)}?${query}${inline ? "&inline=1" : ""}`;
  return { url: `${deps.publicUrl.replace(/\/+$/, "")}${path}`, expiresAt: timestampFromMs(expires * 1000) };
}

/**
 * Counts one download of the link: a conditional update in meta, so with max_downloads N exactly N calls
 * succeed however many race. SHARE_LIMIT_REACHED when none is left.
 * A folder's ZIP (folderZipUrl) calls it once for the whole archive.
 */
export async function consumeDownload(deps: ShareDeps, shareId: string, kind: ShareDownloadKind) {
  try {
    const counted = await deps.meta.consumeShareDownload({ id: shareId });
    deps.metrics?.download(kind, true);
    return counted;
  } catch (err) {
    const code = ConnectError.from(err).code;
    if (code === Code.ResourceExhausted) {
      deps.metrics?.download(kind, false);
      throw limitReached();
    }
    if (code === Code.NotFound) throw noSuchShare();
    throw err;
  }
}

/**
 * Copies the shared item (or an entry inside it) into the caller's tree by content references, charged to
 * the caller's quota. It counts as one download of the link (a copy gives the bytes as a download does),
 * counted by meta in the copy's own transaction: a copy refused (quota, a folder gone) uses none up, and
 * with max_downloads N at most N copies and downloads together succeed however many race.
 */
export async function saveShareToDrive(deps: ShareDeps, who: Identity, req: SaveShareToDriveRequest) {
  const { share, item } = await resolveShareItem(deps, req.shareToken, req.itemId);
  let res: Awaited<ReturnType<ShareDeps["meta"]["copySharedItem"]>>;
  try {
    res = await deps.meta.copySharedItem({
      sourceOwnerId: share.ownerId,
      itemId: item.id,
      ownerId: who.userId,
      newParentId: req.parentId,
      countDownloadOfShare: share.id,
    });
  } catch (err) {
    // The count's refusals read as a download's (consumeDownload); the copy's own errors as they are.
    const reason = reasonOf(err);
    if (reason === Reason.SHARE_LIMIT_REACHED) {
      deps.metrics?.download("save", false);
      throw limitReached();
    }
    if (reason === Reason.SHARE_NOT_FOUND) throw noSuchShare();
    throw err;
  }
  deps.metrics?.download("save", true);
  if (!res.file) throw new Error("meta returned no file");
  return { fileId: res.file.id, name: res.file.name };
}
