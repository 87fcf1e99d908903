// Where locking meets the other methods: which paths each write changes (for guard()), and the locks a
// DELETE or MOVE leaves behind, dropped (RFC 4918 7.5, 9.6.1, 9.9.4: a lock does not follow its resource).
import type { DavPath } from "../paths.ts";
import type { Entry } from "../tree.ts";
import { destinationOf } from "../tree-ops.ts";
import { guard, type LockDeps, pathKey, type WriteKind } from "./guard.ts";

/** The paths `method` changes and how (an empty list for a read, which only has its If header checked). */
function writesOf(
  req: Request,
  dav: DavPath,
  entry: Entry | undefined,
): { names: string[]; kind: WriteKind }[] {
  const at = dav.names;
  switch (req.method) {
    case "PUT":
      return [{ names: at, kind: entry ? "self" : "member" }];
    case "PROPPATCH":
      return [{ names: at, kind: "self" }];
    case "MKCOL":
      return [{ names: at, kind: "member" }];
    case "DELETE":
      return [{ names: at, kind: "subtree" }];
    case "COPY":
    case "MOVE": {
      const dest = destinationOf(req);
      // A bad Destination is refused by COPY/MOVE themselves.
      const out = dest instanceof Response ? [] : [{ names: dest.names, kind: "subtree" as const }];
      return req.method === "MOVE" ? [{ names: at, kind: "subtree" }, ...out] : out;
    }
    default:
      return [];
  }
}

/** The answer that stops the request (400/412/423), or undefined. LOCK and UNLOCK check for themselves. */
export function guardMethod(deps: LockDeps, req: Request, dav: DavPath, entry: Entry | undefined) {
  return guard(deps, req, dav, entry, writesOf(req, dav, entry));
}

/** After a DELETE or MOVE that succeeded: the locks on the old path and below it are gone. */
export async function afterRemoval(deps: LockDeps, names: string[], res: Response): Promise<Response> {
  if (res.status >= 200 && res.status < 300)
    await deps.meta.dropDavLocks({ ownerId: deps.ownerId, path: pathKey(names) });
  return res;
}
