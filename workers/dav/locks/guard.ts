// Locks and If headers on the way of a request (RFC 4918 7, 10.4): the If header must hold (else 412),
// and every lock that protects what a write changes must have its token submitted in it (else 423 with
// lock-token-submitted). What a write changes decides which locks protect it: the resource itself (its
// own locks and depth-infinity locks above it), its parent's membership (the parent's locks of any depth),
// and for a removal everything below it.
import { isAncestor } from "../../../core/lock-paths.ts";
import type { DavLock } from "../../../proto/gen/filestore/meta/v1/dav_locks_pb.ts";
import type { MetaClient } from "../../lib/meta-client.ts";
import { BadPathError, type DavPath, parseDavPath, rawPathOf } from "../paths.ts";
import { etagOf } from "../props.ts";
import { text } from "../status.ts";
import { type Entry, resolvePath, type TreeCtx } from "../tree.ts";
import {
  BadIfHeaderError,
  type IfList,
  ifHolds,
  parseIf,
  type ResourceState,
  submittedTokens,
} from "./if-header.ts";
import { lockError, lockRootHref } from "./xml.ts";

export interface LockDeps {
  meta: MetaClient;
  ownerId: string;
  tree: TreeCtx;
  now: () => number;
}

/** What a write does at a path: changes the resource, adds it to its parent, or removes it with its subtree. */
export type WriteKind = "self" | "member" | "subtree";

export const pathKey = (names: string[]) => names.join("/");
const parentKey = (names: string[]) => names.slice(0, -1).join("/");

/** True when the lock applies to the resource at `path` (RFC 4918 6.1: on it, or deep above it). */
export const covers = (l: DavLock, path: string) => l.path === path || (l.deep && isAncestor(l.path, path));

/** The locks of the owner that protect a write of this kind at `names`. */
export async function protectingLocks(deps: LockDeps, names: string[], kind: WriteKind): Promise<DavLock[]> {
  const path = pathKey(names);
  const { locks } = await deps.meta.listDavLocks({
    ownerId: deps.ownerId,
    path,
    descendants: kind === "subtree",
  });
  return locks.filter(
    (l) =>
      covers(l, path) ||
      (kind !== "self" && names.length > 0 && l.path === parentKey(names)) ||
      (kind === "subtree" && isAncestor(path, l.path)),
  );
}

/** The parsed If header of a request (undefined: none). Throws BadIfHeaderError when malformed. */
export function ifListsOf(req: Request): IfList[] | undefined {
  const raw = req.headers.get("if");
  return raw === null ? undefined : parseIf(raw);
}

/** The DAV path a tagged list names (an absolute URL or path), or undefined when it is not one of ours. */
function taggedPath(resource: string): DavPath | undefined {
  try {
    return parseDavPath(resource.startsWith("/") ? (resource.split("?")[0] ?? "") : rawPathOf(resource));
  } catch (err) {
    if (err instanceof BadPathError) return undefined;
    throw err;
  }
}

/** Whether the If header holds, with the request URI's entry known already. */
export async function ifHoldsFor(
  deps: LockDeps,
  lists: IfList[],
  names: string[],
  entry: Entry | undefined,
): Promise<boolean> {
  const stateAt = async (at: string[], known: Entry | undefined, look: boolean): Promise<ResourceState> => {
    const path = pathKey(at);
    const { locks } = await deps.meta.listDavLocks({ ownerId: deps.ownerId, path });
    const tokens = new Set(locks.filter((l) => covers(l, path)).map((l) => l.token));
    const e = look ? (await resolvePath(deps.tree, at)).entry : known;
    return { tokens, etag: e ? etagOf(e) : undefined };
  };
  return ifHolds(lists, (resource) => {
    if (resource === undefined) return stateAt(names, entry, false);
    const dav = taggedPath(resource);
    if (!dav) return Promise.resolve({ tokens: new Set<string>() });
    const same = pathKey(dav.names) === pathKey(names);
    return stateAt(dav.names, same ? entry : undefined, !same);
  });
}

/** 423 unless every protecting lock's token is among the submitted ones. */
export async function lockedUnlessSubmitted(
  deps: LockDeps,
  prefix: string,
  names: string[],
  kind: WriteKind,
  submitted: Set<string>,
): Promise<Response | undefined> {
  const missing = (await protectingLocks(deps, names, kind)).filter((l) => !submitted.has(l.token));
  if (missing.length === 0) return undefined;
  const roots = [...new Set(missing.map((l) => lockRootHref(prefix, l.path, false)))];
  return lockError(423, "lock-token-submitted", roots, "the resource is locked: submit its lock token in If");
}

/**
 * The answer that stops a request before it runs (400 for a malformed If, 412 when it does not hold, 423
 * for a lock whose token is missing), or undefined to go on. `writes`: the paths the method changes.
 */
export async function guard(
  deps: LockDeps,
  req: Request,
  dav: DavPath,
  entry: Entry | undefined,
  writes: { names: string[]; kind: WriteKind }[],
): Promise<Response | undefined> {
  let lists: IfList[] | undefined;
  try {
    lists = ifListsOf(req);
  } catch (err) {
    if (err instanceof BadIfHeaderError) return text(400, err.message);
    throw err;
  }
  if (lists && !(await ifHoldsFor(deps, lists, dav.names, entry)))
    return text(412, "the If header's conditions do not hold");
  const submitted = lists ? submittedTokens(lists) : new Set<string>();
  for (const w of writes) {
    const refused = await lockedUnlessSubmitted(deps, dav.prefix, w.names, w.kind, submitted);
    if (refused) return refused;
  }
  return undefined;
}
