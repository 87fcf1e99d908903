// DAV:lockdiscovery in PROPFIND (RFC 4918 15.8): the locks of the entries answered, read with one
// ListDavLocks for the whole answer (the folder's path, its ancestors and, at depth 1, what is below it),
// and only when the request asks for the property (allprop or by name).
import type { PropRequest } from "../props.ts";
import { DAV_NS } from "../xml.ts";
import { covers, type LockDeps, pathKey } from "./guard.ts";
import { activeLockXml, lockRootHref } from "./xml.ts";

const wanted = (r: PropRequest) =>
  r.kind === "allprop" ||
  (r.kind === "prop" && r.props.some((p) => p.ns === DAV_NS && p.name === "lockdiscovery"));

/** The lockdiscovery of an answer with no lock anywhere in it: callers skip their per-entry work for it. */
export const NO_LOCKS = (_at: string[]): string => "";

/**
 * For a PROPFIND at `names`: each answered entry's lockdiscovery by its names (NO_LOCKS when no lock is
 * on, above or below the path, as for almost every listing), or undefined when not asked.
 */
export async function lockDiscoveryOf(
  deps: LockDeps,
  prefix: string,
  names: string[],
  request: PropRequest,
  depth: string | null,
): Promise<((at: string[]) => string) | undefined> {
  if (!wanted(request)) return undefined;
  const { locks } = await deps.meta.listDavLocks({
    ownerId: deps.ownerId,
    path: pathKey(names),
    descendants: (depth ?? "").trim() === "1",
  });
  if (locks.length === 0) return NO_LOCKS;
  const now = deps.now();
  return (at) => {
    const path = pathKey(at);
    return locks
      .filter((l) => covers(l, path))
      .map((l) => activeLockXml(l, lockRootHref(prefix, l.path, l.path !== path || l.deep), now))
      .join("");
  };
}
