// filestore.meta.v1.DavLockService: WebDAV write locks (RFC 4918 6–7) in the database, where every WebDAV
// replica sees them. A lock stands on a path of its owner's tree; conflicts are decided here, in one
// transaction that holds the owner's row (MariaDB) so that two replicas cannot both grant an exclusive
// lock. Expired locks are ignored by every read and swept whenever a lock is taken.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { isAncestor } from "../../core/lock-paths.ts";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { DavLockService } from "../../proto/gen/filestore/meta/v1/dav_locks_pb.ts";
import { invalidArgument, notFound, resourceExhausted } from "../lib/errors.ts";
import type { Db } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import type { DavLocksTable } from "./db/schema.ts";
import { transact } from "./db/transact.ts";
import type { MetaDeps } from "./records.ts";

/** Timeouts (seconds): what a LOCK without a usable Timeout gets, and the most any lock gets. */
export const DEFAULT_LOCK_SECONDS = 3600;
export const MAX_LOCK_SECONDS = 7 * 86_400;
/** Unexpired locks one user may hold (every check reads them all). */
export const MAX_LOCKS_PER_USER = 1000;
const MAX_OWNER_XML_BYTES = 16_384;
const MAX_PATH_BYTES = 65_536;

/** A new lock token: 128 random bits written as a UUID (RFC 4918 6.5, the opaquelocktoken scheme). */
export function newLockToken(): string {
  const h = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
  return `opaquelocktoken:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const lockOf = (r: DavLocksTable) => ({
  token: r.token,
  path: r.path,
  deep: r.deep === 1,
  exclusive: r.exclusive === 1,
  ownerXml: r.owner_xml,
  timeoutSeconds: r.timeout_seconds,
  expiresAtMs: BigInt(r.expires_at),
});

function checkPath(path: string) {
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw invalidArgument("the path is too long");
  if (path.startsWith("/") || path.endsWith("/") || path.includes("//"))
    throw invalidArgument('a lock path is names joined by "/" ("" for the root)');
}

function timeoutOf(seconds: number): number {
  if (seconds < 0) throw invalidArgument("timeout_seconds may not be negative");
  return seconds === 0 ? DEFAULT_LOCK_SECONDS : Math.min(seconds, MAX_LOCK_SECONDS);
}

/** The owner's unexpired locks. */
function unexpired(db: Db, ownerId: string, now: number) {
  return db.selectFrom("dav_locks").selectAll().where("owner_id", "=", ownerId).where("expires_at", ">", now);
}

/** Whether a held lock stands in the way of a new one (RFC 4918 6.1, 7: shared locks share). */
function conflicts(held: DavLocksTable, path: string, deep: boolean, exclusive: boolean): boolean {
  if (!exclusive && held.exclusive === 0) return false;
  if (held.path === path) return true;
  if (held.deep === 1 && isAncestor(held.path, path)) return true;
  return deep && isAncestor(path, held.path);
}

export function davLockService({ db, now }: MetaDeps): ServiceImpl<typeof DavLockService> {
  const owned = async (ownerId: string, token: string) => {
    if (!ownerId || !token) throw invalidArgument("owner_id and token are required");
    const row = await unexpired(db, ownerId, now()).where("token", "=", token).executeTakeFirst();
    if (!row) throw notFound("no such lock (unlocked, expired, or not yours)");
    return row;
  };
  return {
    async createDavLock(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      checkPath(req.path);
      if (Buffer.byteLength(req.ownerXml) > MAX_OWNER_XML_BYTES)
        throw invalidArgument(`the owner element is at most ${MAX_OWNER_XML_BYTES} bytes`);
      const timeout = timeoutOf(req.timeoutSeconds);
      const at = now();
      const row: DavLocksTable = {
        token: newLockToken(),
        owner_id: req.ownerId,
        path: req.path,
        deep: req.deep ? 1 : 0,
        exclusive: req.exclusive ? 1 : 0,
        owner_xml: req.ownerXml,
        timeout_seconds: timeout,
        expires_at: at + timeout * 1000,
        created_at: at,
      };
      await db.deleteFrom("dav_locks").where("expires_at", "<=", at).execute();
      await transact(db, async (tx) => {
        // The owner's row, held: two LOCKs of one owner decide one after the other (SQLite's write
        // transaction is serial already).
        let owner = tx.selectFrom("users").select("id").where("id", "=", req.ownerId);
        if (isMysql(tx)) owner = owner.forUpdate();
        if (!(await owner.executeTakeFirst())) throw notFound("no such user");
        const held = await unexpired(tx, req.ownerId, at).execute();
        if (held.some((h) => conflicts(h, req.path, req.deep, req.exclusive)))
          throw reasonError("a conflicting lock is held", Code.FailedPrecondition, Reason.LOCK_CONFLICT);
        if (held.length >= MAX_LOCKS_PER_USER)
          throw resourceExhausted(`a user holds at most ${MAX_LOCKS_PER_USER} locks`);
        await tx.insertInto("dav_locks").values(row).execute();
      });
      return { lock: lockOf(row) };
    },
    async refreshDavLock(req) {
      const row = await owned(req.ownerId, req.token);
      const timeout = req.timeoutSeconds > 0 ? timeoutOf(req.timeoutSeconds) : row.timeout_seconds;
      const expires = now() + timeout * 1000;
      await db
        .updateTable("dav_locks")
        .set({ timeout_seconds: timeout, expires_at: expires })
        .where("token", "=", row.token)
        .execute();
      return { lock: lockOf({ ...row, timeout_seconds: timeout, expires_at: expires }) };
    },
    async deleteDavLock(req) {
      const row = await owned(req.ownerId, req.token);
      await db.deleteFrom("dav_locks").where("token", "=", row.token).execute();
      return { lock: lockOf(row) };
    },
    async listDavLocks(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      checkPath(req.path);
      const rows = await unexpired(db, req.ownerId, now()).execute();
      const related = (r: DavLocksTable) =>
        r.path === req.path ||
        isAncestor(r.path, req.path) ||
        (req.descendants && isAncestor(req.path, r.path));
      return { locks: rows.filter(related).map(lockOf) };
    },
    async dropDavLocks(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      checkPath(req.path);
      const rows = await db
        .selectFrom("dav_locks")
        .select(["token", "path"])
        .where("owner_id", "=", req.ownerId)
        .execute();
      const gone = rows
        .filter((r) => r.path === req.path || isAncestor(req.path, r.path))
        .map((r) => r.token);
      if (gone.length > 0) await db.deleteFrom("dav_locks").where("token", "in", gone).execute();
      return {};
    },
  };
}
