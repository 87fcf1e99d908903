// LOCK and UNLOCK (RFC 4918 9.10, 9.11): a new lock (exclusive or shared, depth 0 or infinity, with a
// timeout), a refresh (no body, the lock named in If), a lock on an unmapped URL that creates an empty
// resource (7.3), and UNLOCK of the token in Lock-Token. Conflicts are decided by DavLockService.
import { ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../../core/reasons.ts";
import type { DavLock } from "../../../proto/gen/filestore/meta/v1/dav_locks_pb.ts";
import type { DavPath } from "../paths.ts";
import { text } from "../status.ts";
import type { Entry } from "../tree.ts";
import { BadXmlError, child, DAV_NS, innerXml, NAMESPACE_DECLS, parseXml } from "../xml.ts";
import { covers, guard, ifListsOf, type LockDeps, pathKey } from "./guard.ts";
import { submittedTokens } from "./if-header.ts";
import { activeLockXml, lockError, lockRootHref } from "./xml.ts";

/** The seconds a Timeout header asks for (RFC 4918 10.7): the first Second-n; Infinite: the most; else 0. */
export function timeoutSecondsOf(header: string | null): number {
  for (const part of (header ?? "").split(",")) {
    const t = part.trim();
    if (/^infinite$/i.test(t)) return 2 ** 31 - 1;
    const m = /^second-(\d{1,12})$/i.exec(t);
    if (m) return Math.min(Number(m[1]), 2 ** 31 - 1) || 1;
  }
  return 0;
}

function lockAnswer(deps: LockDeps, dav: DavPath, lock: DavLock, folder: boolean, status: number) {
  const root = lockRootHref(dav.prefix, lock.path, lock.path === pathKey(dav.names) ? folder : true);
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<d:prop ${NAMESPACE_DECLS}><d:lockdiscovery>${activeLockXml(lock, root, deps.now())}</d:lockdiscovery></d:prop>`;
  return new Response(body, {
    status,
    headers: { "content-type": "application/xml; charset=utf-8", "lock-token": `<${lock.token}>` },
  });
}

/** A refresh: the lock of the request URI whose token the If header names gets its timeout again. */
async function refresh(deps: LockDeps, req: Request, dav: DavPath, entry: Entry | undefined) {
  if (!entry) return text(404, "not found");
  const raw = req.headers.get("if");
  if (raw === null) return text(400, "a LOCK without a body refreshes a lock: name it in an If header");
  const stop = await guard(deps, req, dav, entry, []);
  if (stop) return stop;
  const path = pathKey(dav.names);
  const { locks } = await deps.meta.listDavLocks({ ownerId: deps.ownerId, path });
  const submitted = submittedTokens(ifListsOf(req) ?? []);
  const mine = locks.find((l) => covers(l, path) && submitted.has(l.token));
  if (!mine)
    return lockError(
      412,
      "lock-token-matches-request-uri",
      [],
      "the If header names no lock of this resource",
    );
  const timeoutSeconds = timeoutSecondsOf(req.headers.get("timeout"));
  const { lock } = await deps.meta.refreshDavLock({
    ownerId: deps.ownerId,
    token: mine.token,
    timeoutSeconds,
  });
  return lockAnswer(deps, dav, lock as DavLock, entry.folder, 200);
}

/** What a lockinfo body asks for (RFC 4918 14.11). */
function lockInfoOf(bodyText: string) {
  const info = parseXml(bodyText);
  if (!info || info.ns !== DAV_NS || info.name !== "lockinfo")
    throw new BadXmlError("the body must be a DAV:lockinfo");
  const scope = child(info, DAV_NS, "lockscope")?.children[0];
  const type = child(info, DAV_NS, "locktype")?.children[0];
  if (!scope || scope.ns !== DAV_NS || (scope.name !== "exclusive" && scope.name !== "shared"))
    throw new BadXmlError("DAV:lockscope must be exclusive or shared");
  if (!type || type.ns !== DAV_NS || type.name !== "write")
    throw new BadXmlError("DAV:locktype must be write");
  const owner = child(info, DAV_NS, "owner");
  return { exclusive: scope.name === "exclusive", ownerXml: owner ? innerXml(owner) : "" };
}

export interface LockTarget {
  dav: DavPath;
  entry?: Entry;
  parent?: Entry;
  /** Creates the empty resource an unmapped URL's LOCK makes (RFC 4918 7.3): an answer on failure. */
  createEmpty: () => Promise<Response | undefined>;
}

export async function lockMethod(deps: LockDeps, req: Request, bodyText: string, t: LockTarget) {
  const { dav, entry, parent } = t;
  if (bodyText.trim() === "") return refresh(deps, req, dav, entry);
  const { exclusive, ownerXml } = lockInfoOf(bodyText);
  const depth = (req.headers.get("depth") ?? "infinity").trim().toLowerCase();
  if (depth !== "0" && depth !== "infinity") return text(400, "a LOCK's Depth is 0 or infinity");
  if (!entry && !parent) return text(409, "the parent folder does not exist");
  // Locking an unmapped URL adds a member to its folder: that folder's locks protect it.
  const stop = await guard(deps, req, dav, entry, entry ? [] : [{ names: dav.names, kind: "member" }]);
  if (stop) return stop;
  let lock: DavLock | undefined;
  try {
    ({ lock } = await deps.meta.createDavLock({
      ownerId: deps.ownerId,
      path: pathKey(dav.names),
      deep: depth === "infinity",
      exclusive,
      ownerXml,
      timeoutSeconds: timeoutSecondsOf(req.headers.get("timeout")),
    }));
  } catch (err) {
    if (err instanceof ConnectError && reasonOf(err) === Reason.LOCK_CONFLICT)
      return lockError(423, "no-conflicting-lock", [], "a conflicting lock is held on this resource");
    throw err;
  }
  if (!lock) throw new Error("CreateDavLock answered no lock");
  if (!entry) {
    const failed = await t.createEmpty().catch(async (err: unknown) => {
      await deps.meta.deleteDavLock({ ownerId: deps.ownerId, token: lock.token });
      throw err;
    });
    if (failed) {
      await deps.meta.deleteDavLock({ ownerId: deps.ownerId, token: lock.token });
      return failed;
    }
  }
  return lockAnswer(deps, dav, lock, entry?.folder ?? false, entry ? 200 : 201);
}

/** UNLOCK: the token in Lock-Token must be a lock of the request URI (409 lock-token-matches-request-uri). */
export async function unlockMethod(deps: LockDeps, req: Request, dav: DavPath, entry: Entry | undefined) {
  const m = /^\s*<([^>\s]+)>\s*$/.exec(req.headers.get("lock-token") ?? "");
  if (!m) return text(400, "UNLOCK needs a Lock-Token header: <token>");
  if (!entry) return text(404, "not found");
  const path = pathKey(dav.names);
  const { locks } = await deps.meta.listDavLocks({ ownerId: deps.ownerId, path });
  const lock = locks.find((l) => l.token === m[1] && covers(l, path));
  if (!lock)
    return lockError(409, "lock-token-matches-request-uri", [], "no lock of this resource has that token");
  await deps.meta.deleteDavLock({ ownerId: deps.ownerId, token: lock.token });
  return text(204, "");
}
