// WebDAV lock paths: a resource's names below the user's root joined by "/" ("" is the root itself), as
// meta stores locks (workers/meta/dav-locks.ts) and the WebDAV worker checks them (workers/dav/locks/).
// Written once here so that both sides agree on which path lies below which.

/** True when `anc` is a strict ancestor of `path` ("" is every path's ancestor but its own). */
export const isAncestor = (anc: string, path: string): boolean =>
  anc !== path && (anc === "" || path.startsWith(`${anc}/`));
