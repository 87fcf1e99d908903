// The download worker's logic: which file a request names (the caller's by id or by SHA-1, or a signed
// link's), and the answer for it — validators, Range, the body straight from the file's blob store.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import type { ExpiringCache } from "../../core/cache.ts";
import { LINKS_PATH } from "../../core/data-paths.ts";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { StoreFor } from "../lib/blobstore/types.ts";
import type { Publishers } from "../lib/bus/events.ts";
import { invalidArgument, permissionDenied } from "../lib/errors.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import type { DownloadMetrics, LinkResult } from "../lib/metrics/download.ts";
import { isHex } from "../lib/validate.ts";
import {
  checkLink,
  type LinkParams,
  type LinkVerdict,
  linkParams,
  linkQuery,
  type VerifiedLinks,
} from "./links.ts";
import { attachmentOnlyWhenShared } from "./preview.ts";
import type { LiveShares } from "./share-liveness.ts";
import { type Target, targetOf } from "./target.ts";
import type { ThumbnailServing } from "./thumbnails.ts";

export { asPreview, type Target } from "./target.ts";
export { LINKS_PATH };

export interface DownloadDeps {
  meta: MetaClient;
  storeFor: StoreFor;
  /** Signs download links; the same on every replica. */
  linkKey: Uint8Array;
  linkTtlSeconds: number;
  linkMaxTtlSeconds: number;
  /** Base of absolute links (PUBLIC_DOWNLOAD_URL); "" gives links relative to the gateway. */
  publicUrl: string;
  /** Answer GETs of content on S3 with a 302 to a presigned URL (DOWNLOAD_S3_REDIRECT). */
  s3Redirect: boolean;
  /**
   * Answers are written by Bun.serve (the all-in-one process), which applies a request's single Range to a
   * whole-file Blob answered with 200 by itself, as fast as a bare Bun.file() answer. Otherwise (node:http,
   * the standalone worker) ranges are cut here.
   */
  bunServeRanges: boolean;
  /** Local content goes out as `X-Accel-Redirect` to this nginx internal location (DOWNLOAD_ACCEL). */
  accelPrefix?: string;
  /**
   * Files resolved in the last `lookupCacheMs` (DOWNLOAD_LOOKUP_CACHE_MS; 0: off), so that the many range
   * requests of one download (players, download managers) do not each cost a meta round trip.
   * Entries are tagged with their owner: every file event of that owner on the bus drops them
   * (invalidation.ts), so a delete, rename or new upload made on any replica is seen at once; the expiry
   * bounds staleness only if an event is lost (Redis unreachable, a process that died before publishing).
   * Signed links never use it. Ownership is part of every key, and misses are never cached.
   */
  lookups: ExpiringCache<string, Target>;
  lookupCacheMs: number;
  now: () => number;
  /** Signed thumbnail URLs and their route (thumbnails.ts). */
  thumbnails: ThumbnailServing;
  /** The most entries a folder ZIP may hold (ZIP_MAX_ENTRIES). */
  zipMaxEntries: number;
  /** Link signatures already checked (links.ts): the range requests of one URL skip the HMAC. */
  verifiedLinks?: VerifiedLinks;
  /** Bytes by backend, ranges, link checks (workers/lib/metrics/download.ts); none in most tests. */
  metrics?: DownloadMetrics;
  /**
   * Share links known live (share-liveness.ts), set once the worker follows the bus's "links" and "files"
   * events (wire.ts); absent (tests, DOWNLOAD_LOOKUP_CACHE_MS=0): meta is asked on every request.
   */
  liveShares?: LiveShares<Target>;
  /** Tells other replicas of revoked signed links (the event bus); absent in most tests. */
  events?: Pick<Publishers, "linkRevoked">;
}

/** A link verdict as the metrics name it. */
const LINK_RESULTS: Record<LinkVerdict, LinkResult> = {
  valid: "ok",
  expired: "expired",
  revoked: "revoked",
  invalid: "forged",
};

/** Which content: a file (its current content, or with versionId one of its versions) or the newest by SHA-1. */
type LookupKey = { fileId?: string; ownerId?: string; sha1?: string; versionId?: string; shareId?: string };
const cacheKeyOf = (key: LookupKey) =>
  `${key.ownerId ?? ""}/${key.fileId ?? ""}/${key.sha1 ?? ""}${key.versionId ? `/${key.versionId}` : ""}`;

/** The file of a lookup key if the lookup cache holds it; else undefined. */
const cachedTarget = (deps: DownloadDeps, key: LookupKey): Target | undefined =>
  deps.lookupCacheMs > 0 ? deps.lookups.get(cacheKeyOf(key)) : undefined;

/** The caller's file by id if the lookup cache holds it (the hot path of range requests); else undefined. */
export const cachedOwnFile = (deps: DownloadDeps, who: Identity, fileId: string): Target | undefined =>
  cachedTarget(deps, { fileId, ownerId: who.userId });

/** The file of a lookup key, from the lookup cache unless `fresh` (signing needs the current generation). */
async function target(deps: DownloadDeps, key: LookupKey, fresh = false): Promise<Target> {
  if (fresh || deps.lookupCacheMs <= 0) return lookUp(deps, key);
  const hit = cachedTarget(deps, key);
  if (hit) return hit;
  // When an entry ends, every connection of a download misses at once (64 for a download manager): they
  // share one meta call rather than each making its own.
  const cacheKey = cacheKeyOf(key);
  const flights = flightsOf(deps.lookups);
  const joined = flights.get(cacheKey);
  if (joined) return joined;
  const asked = lookUp(deps, key)
    .then((t) => {
      deps.lookups.set(cacheKey, t, deps.now() + deps.lookupCacheMs, key.ownerId ?? "");
      return t;
    })
    .finally(() => flights.delete(cacheKey));
  flights.set(cacheKey, asked);
  return asked;
}

/** The lookups under way, by cache key, of each lookup cache. */
const lookupFlights = new WeakMap<object, Map<string, Promise<Target>>>();
function flightsOf(lookups: object): Map<string, Promise<Target>> {
  let flights = lookupFlights.get(lookups);
  if (!flights) {
    flights = new Map();
    lookupFlights.set(lookups, flights);
  }
  return flights;
}

/**
 * The file of a key as meta answers it now. `previous`: an earlier answer, returned as it is when meta
 * answers the same again (its headers and previews are then not built anew).
 */
async function lookUp(deps: DownloadDeps, key: LookupKey, previous?: Target): Promise<Target> {
  return targetOf(await deps.meta.getDownloadTarget(key), previous);
}

/** The caller's file by id (NotFound for anyone else's). */
export function ownFile(deps: DownloadDeps, who: Identity, fileId: string, fresh = false): Promise<Target> {
  return target(deps, { fileId, ownerId: who.userId }, fresh);
}

/** The caller's newest file with this content (the legacy API names files by SHA-1). */
export function ownFileBySha1(
  deps: DownloadDeps,
  who: Identity,
  sha1: string,
  fresh = false,
): Promise<Target> {
  const hash = sha1.toLowerCase();
  if (!isHex(hash, 40)) throw invalidArgument("filehash must be the SHA-1 (40 hex digits)");
  return target(deps, { ownerId: who.userId, sha1: hash }, fresh);
}

/** Why a signed link (of a file or a folder ZIP) is refused. */
export const LINK_REFUSALS: Record<Exclude<LinkVerdict, "valid">, string> = {
  invalid: "this download link is not valid (it was changed or is incomplete); ask for a new one",
  expired: "this download link has expired; ask for a new one",
  revoked: "this download link was revoked; ask the owner for a new one",
};

/** The file of a signed link; PermissionDenied with the reason when the link does not hold. */
export async function linkedFile(
  deps: DownloadDeps,
  fileId: string,
  query: URLSearchParams,
): Promise<Target> {
  const given = linkParams(query);
  if (!given || !fileId) {
    deps.metrics?.link("forged");
    throw permissionDenied(LINK_REFUSALS.invalid);
  }
  // Always fresh: a revocation (on any replica) must hold at once, so links never use the lookup cache.
  // A version's link names it (v=); the signature binds the version's content, so v cannot be swapped.
  const key = { fileId, versionId: query.get("v") || undefined };
  if (given.shareId !== undefined) {
    // A share's URL: one meta call checks the share and finds the file (every Range GET asks it afresh).
    const t = await sharedTarget(deps, { ...key, shareId: given.shareId });
    if (t) {
      checkSignature(deps, t, given);
      return t;
    }
    // Refused: told apart as before (a forged or stale link, else the share's own refusal), off the hot path.
    checkSignature(deps, await linkTarget(deps, key), given);
    throw shareRefusal();
  }
  const t = await linkTarget(deps, key);
  checkSignature(deps, t, given);
  return t;
}

/** A link's file afresh; PermissionDenied (a link that is not valid) when it is gone or never was. */
async function linkTarget(deps: DownloadDeps, key: LookupKey): Promise<Target> {
  try {
    return await target(deps, key, true);
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) {
      deps.metrics?.link("forged");
      throw permissionDenied(LINK_REFUSALS.invalid);
    }
    throw err;
  }
}

/** How long a shared file's last answer is kept to be reused when meta answers the same (never trusted alone). */
const SHARED_REUSE_MS = 60_000;

/**
 * A share's file while the share answers and holds it; undefined when it does not. Meta is asked unless
 * the share liveness cache knows the link live (share-liveness.ts: dropped by every event that could
 * change the answer, never past the link's expiry). When meta answers as it did for the last request,
 * that request's Target (headers built, previews) is the answer.
 */
async function sharedTarget(
  deps: DownloadDeps,
  key: LookupKey & { shareId: string; fileId: string },
): Promise<Target | undefined> {
  const live = deps.liveShares?.get(key);
  if (live) return live;
  const ask = (epoch: number) => askShared(deps, key, epoch);
  // The requests that miss together (each connection of a download, when an entry ends) share one call.
  return deps.liveShares ? deps.liveShares.shared(key, ask) : ask(0);
}

/** sharedTarget's meta call; its answer kept in the share cache unless an event came after `epoch`. */
async function askShared(
  deps: DownloadDeps,
  key: LookupKey & { shareId: string; fileId: string },
  epoch: number,
): Promise<Target | undefined> {
  const reuseKey = `share:${key.shareId}/${key.fileId}/${key.versionId ?? ""}`;
  try {
    const previous = deps.lookups.get(reuseKey);
    const res = await deps.meta.getDownloadTarget(key);
    const t = targetOf(res, previous);
    const shared = t === previous || !attachmentOnlyWhenShared(t.name) ? t : { ...t, attachmentOnly: true };
    if (shared !== previous) deps.lookups.set(reuseKey, shared, deps.now() + SHARED_REUSE_MS);
    deps.liveShares?.set(key, res.file?.ownerId ?? "", shared, Number(res.shareExpiresAtMs), epoch);
    return shared;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

/** PermissionDenied with the reason unless the link's signature holds for the file as it is now. */
function checkSignature(deps: DownloadDeps, t: Target, given: LinkParams): void {
  const verdict = checkLink(
    deps.linkKey,
    { fileId: t.fileId, sha256: t.sha256, generation: t.linkGeneration },
    given,
    deps.now(),
    deps.verifiedLinks,
  );
  deps.metrics?.link(LINK_RESULTS[verdict]);
  if (verdict !== "valid") throw permissionDenied(LINK_REFUSALS[verdict]);
}

const shareRefusal = () =>
  reasonError(
    "this share link was revoked, has expired, or no longer holds this item",
    Code.PermissionDenied,
    Reason.SHARE_NOT_FOUND,
  );

/**
 * A share's folder ZIP URL works only while the share answers and the folder is still inside it: asked of
 * meta on every request, so a revoked or expired share stops at once on every replica. Never counts a
 * download (the mint did). (A shared file's URL has the same check inside its target lookup: linkedFile.)
 */
export async function requireLiveShare(deps: DownloadDeps, shareId: string, fileId: string): Promise<void> {
  try {
    const live = await deps.meta.getLiveShare({ id: shareId, withItem: true, itemId: fileId });
    if (live.share?.mode === "view") return;
  } catch (err) {
    if (ConnectError.from(err).code !== Code.NotFound) throw err;
  }
  throw shareRefusal();
}

export async function createDownloadUrl(
  deps: DownloadDeps,
  who: Identity,
  req: {
    fileId: string;
    sha1: string;
    ttlSeconds: number;
    versionId?: string;
    inline?: boolean;
    asText?: boolean;
  },
): Promise<{ url: string; expiresAt: ReturnType<typeof timestampFromMs> }> {
  const ttl = linkTtlOf(deps, req.ttlSeconds);
  if (!req.fileId && !req.sha1) throw invalidArgument("file_id is required");
  if (req.versionId && !req.fileId) throw invalidArgument("version_id needs file_id");
  const t = req.sha1
    ? await ownFileBySha1(deps, who, req.sha1, true)
    : await target(
        deps,
        { fileId: req.fileId, ownerId: who.userId, versionId: req.versionId || undefined },
        true,
      );
  const expires = Math.ceil((deps.now() + ttl * 1000) / 1000);
  const query = linkQuery(deps.linkKey, {
    fileId: t.fileId,
    sha256: t.sha256,
    expires,
    generation: t.linkGeneration,
  });
  const version = req.versionId ? `&v=${encodeURIComponent(req.versionId)}` : "";
  // The preview mode is outside the signature: it changes only headers, and every answer is sandboxed.
  const preview = req.inline ? (req.asText ? "&inline=text" : "&inline=1") : "";
  const path = `${LINKS_PATH}${encodeURIComponent(t.fileId)}?${query}${version}${preview}`;
  return linkAnswer(deps, path, expires);
}

/** A link's lifetime in seconds: the requested one (0: the default), InvalidArgument past the maximum. */
export function linkTtlOf(deps: DownloadDeps, requested: number): number {
  const ttl = requested === 0 ? deps.linkTtlSeconds : requested;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > deps.linkMaxTtlSeconds) {
    throw invalidArgument(
      `ttl_seconds must be between 1 and ${deps.linkMaxTtlSeconds} (0 picks the default, ${deps.linkTtlSeconds})`,
    );
  }
  return ttl;
}

/** A signed link's URL (absolute with PUBLIC_DOWNLOAD_URL) and expiry, as the RPCs answer them. */
export const linkAnswer = (deps: DownloadDeps, path: string, expires: number) => ({
  url: `${deps.publicUrl.replace(/\/+$/, "")}${path}`,
  expiresAt: timestampFromMs(expires * 1000),
});

export async function revokeDownloadUrls(deps: DownloadDeps, who: Identity, fileId: string): Promise<void> {
  if (!fileId) throw invalidArgument("file_id is required");
  await deps.meta.revokeDownloadLinks({ ownerId: who.userId, fileId });
  deps.lookups.delete(`/${fileId}/`); // the key of target(deps, { fileId }): links
  // Share URLs of the file are signed with the old generation: every replica's share cache drops them.
  await deps.events?.linkRevoked({ kind: "file-links", id: fileId, ownerId: who.userId });
}
