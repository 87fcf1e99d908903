// Share links (issue 18): the rows of `shares` and the checks every request made through a link repeats.
// A link answers only while its owner is enabled, it has not expired and its target is an active entry
// of the owner; anything else reads as "no such link", so that the callers cannot tell a revoked, expired
// or unknown link apart. Downloads are counted by one conditional UPDATE (never read-then-write), so with
// max_downloads N exactly N of any number of racing mints succeed.
import type { Db } from "./db/database.ts";
import type { FileKind, ShareMode, SharesTable } from "./db/schema.ts";
import { entry, InvalidMoveError } from "./files.ts";
import { ancestors, DEFAULT_MAX_FOLDER_DEPTH } from "./tree.ts";

export interface NewShare {
  id: string;
  ownerId: string;
  targetId: string;
  mode: ShareMode;
  passwordHash: string;
  expiresAt: number | null;
  maxDownloads: number;
  maxFileBytes: number;
}

/** A link with its target's name and kind (owner listing) or its owner's name (public page). */
export interface ShareView extends SharesTable {
  target_name: string;
  target_kind: FileKind;
  owner_name: string;
}

const num = (r: ShareView): ShareView => ({
  ...r,
  version: Number(r.version),
  expires_at: r.expires_at == null ? null : Number(r.expires_at),
  max_downloads: Number(r.max_downloads),
  download_count: Number(r.download_count),
  view_count: Number(r.view_count),
  last_access_at: r.last_access_at == null ? null : Number(r.last_access_at),
  max_file_bytes: Number(r.max_file_bytes),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

const views = (db: Db) =>
  db
    .selectFrom("shares")
    .innerJoin("files", "files.id", "shares.target_id")
    .innerJoin("users", "users.id", "shares.owner_id")
    .selectAll("shares")
    .select(["files.name as target_name", "files.kind as target_kind", "users.username as owner_name"]);

/** Creates a link to an active entry of the owner (FileNotFoundError otherwise; drop links need a folder). */
export async function createShare(db: Db, s: NewShare, now: number): Promise<ShareView> {
  const target = await entry(db, s.ownerId, s.targetId);
  if (target.status !== "active") throw new InvalidMoveError("this entry is in the trash: restore it first");
  if (s.mode === "drop" && target.kind !== "folder") throw new InvalidMoveError("a drop link needs a folder");
  await db
    .insertInto("shares")
    .values({
      id: s.id,
      owner_id: s.ownerId,
      target_id: s.targetId,
      mode: s.mode,
      password_hash: s.passwordHash,
      version: 1,
      expires_at: s.expiresAt,
      max_downloads: s.maxDownloads,
      download_count: 0,
      view_count: 0,
      last_access_at: null,
      max_file_bytes: s.maxFileBytes,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return (await ownedShare(db, s.ownerId, s.id)) as ShareView;
}

/** The owner's link (whatever its state), or undefined. */
export async function ownedShare(db: Db, ownerId: string, id: string): Promise<ShareView | undefined> {
  const row = await views(db)
    .where("shares.id", "=", id)
    .where("shares.owner_id", "=", ownerId)
    .executeTakeFirst();
  return row && num(row);
}

export interface SharePatch {
  passwordHash?: string;
  /** null: no expiry. */
  expiresAt?: number | null;
  maxDownloads?: number;
  maxFileBytes?: number;
}

/** Edits the owner's link and moves it to its next version; undefined when it is not theirs. */
export async function updateShare(
  db: Db,
  ownerId: string,
  id: string,
  p: SharePatch,
  now: number,
): Promise<ShareView | undefined> {
  const set: Partial<SharesTable> = { updated_at: now };
  if (p.passwordHash !== undefined) set.password_hash = p.passwordHash;
  if (p.expiresAt !== undefined) set.expires_at = p.expiresAt;
  if (p.maxDownloads !== undefined) set.max_downloads = p.maxDownloads;
  if (p.maxFileBytes !== undefined) set.max_file_bytes = p.maxFileBytes;
  const res = await db
    .updateTable("shares")
    .set((eb) => ({ ...set, version: eb("version", "+", 1) }))
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return undefined;
  return ownedShare(db, ownerId, id);
}

/** Deletes the owner's link; false when it is not theirs. */
export async function deleteShare(db: Db, ownerId: string, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom("shares")
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Deletes every link of a user (disabled by an administrator); how many. */
export async function deleteUserShares(db: Db, ownerId: string): Promise<number> {
  const res = await db.deleteFrom("shares").where("owner_id", "=", ownerId).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** A page of the owner's links, newest first; the token is the last row's "<created_at>.<id>". */
export async function listShares(
  db: Db,
  ownerId: string,
  opts: { pageSize: number; pageToken: string; targetId?: string },
): Promise<{ shares: ShareView[]; nextPageToken: string }> {
  let q = views(db).where("shares.owner_id", "=", ownerId);
  if (opts.targetId) q = q.where("shares.target_id", "=", opts.targetId);
  if (opts.pageToken) {
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(opts.pageToken);
    if (!m) throw new InvalidPageTokenError();
    const at = Number(m[1]);
    const id = m[2] as string;
    q = q.where((eb) =>
      eb.or([
        eb("shares.created_at", "<", at),
        eb.and([eb("shares.created_at", "=", at), eb("shares.id", "<", id)]),
      ]),
    );
  }
  const rows = (
    await q
      .orderBy("shares.created_at", "desc")
      .orderBy("shares.id", "desc")
      .limit(opts.pageSize + 1)
      .execute()
  ).map(num);
  const more = rows.length > opts.pageSize;
  const page = more ? rows.slice(0, opts.pageSize) : rows;
  const last = page.at(-1);
  return { shares: page, nextPageToken: more && last ? `${last.created_at}.${last.id}` : "" };
}

export class InvalidPageTokenError extends Error {
  constructor() {
    super("page_token is not one this list gave");
  }
}

/**
 * The link while it answers (owner enabled, not expired at `now`, target an active entry), else undefined.
 * With `countView`, one view is counted and the last access set in the same call.
 */
export async function liveShare(
  db: Db,
  id: string,
  now: number,
  countView = false,
): Promise<ShareView | undefined> {
  const row = await views(db)
    .where("shares.id", "=", id)
    .where("files.status", "=", "active")
    .where("users.disabled_at", "is", null)
    .where((eb) => eb.or([eb("shares.expires_at", "is", null), eb("shares.expires_at", ">", now)]))
    .executeTakeFirst();
  if (!row) return undefined;
  if (!countView) return num(row);
  await db
    .updateTable("shares")
    .set((eb) => ({ view_count: eb("view_count", "+", 1), last_access_at: now }))
    .where("id", "=", id)
    .execute();
  return { ...num(row), view_count: Number(row.view_count) + 1, last_access_at: now };
}

/**
 * An active entry inside a live link's target (the target itself, or below it when it is a folder), with
 * the folders from the target down to it; undefined for anything else, unknown ids included. `share` must
 * be live (liveShare): its target is then known active, and asking for the target costs no query (every
 * range request of a shared file's download asks, see the download worker's requireLiveShare).
 */
export async function shareItem(
  db: Db,
  share: Pick<SharesTable, "owner_id" | "target_id">,
  itemId: string,
  maxDepth = DEFAULT_MAX_FOLDER_DEPTH,
): Promise<{ id: string; chain: string[] } | undefined> {
  const id = itemId || share.target_id;
  if (id === share.target_id) return { id, chain: [id] };
  const row = await db
    .selectFrom("files")
    .select("id")
    .where("id", "=", id)
    .where("owner_id", "=", share.owner_id)
    .where("status", "=", "active")
    .executeTakeFirst();
  if (!row) return undefined;
  // From the item up to the root: inside the share when the target is on the way.
  const up = await ancestors(db, share.owner_id, id, maxDepth + 1);
  const at = up.indexOf(share.target_id);
  if (at < 0) return undefined;
  return { id, chain: up.slice(0, at + 1).reverse() };
}

/**
 * Consumes one download of a live link: one conditional UPDATE, so concurrent mints never overshoot.
 * "limit" when none is left; undefined when the link does not answer (expired, gone).
 */
export async function consumeDownload(
  db: Db,
  id: string,
  now: number,
): Promise<{ downloadCount: number; maxDownloads: number } | "limit" | undefined> {
  const res = await db
    .updateTable("shares")
    .set((eb) => ({ download_count: eb("download_count", "+", 1), last_access_at: now }))
    .where("id", "=", id)
    .where((eb) => eb.or([eb("max_downloads", "=", 0), eb("download_count", "<", eb.ref("max_downloads"))]))
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .executeTakeFirst();
  const row = await db
    .selectFrom("shares")
    .select(["download_count", "max_downloads", "expires_at"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) return undefined;
  if (Number(res.numUpdatedRows) === 0) {
    if (row.expires_at != null && Number(row.expires_at) <= now) return undefined;
    return "limit";
  }
  return { downloadCount: Number(row.download_count), maxDownloads: Number(row.max_downloads) };
}
