// The XML of locks: an activelock (RFC 4918 14.1) for lockdiscovery and LOCK's answer, supportedlock
// (15.10), and the error bodies of 423 that name the locked resource (lock-token-submitted, 16).
import type { DavLock } from "../../../proto/gen/filestore/meta/v1/dav_locks_pb.ts";
import { hrefOf } from "../paths.ts";
import { esc, NAMESPACE_DECLS } from "../xml.ts";

/** The href of a lock's root, under the mount prefix the client uses. */
export const lockRootHref = (prefix: string, path: string, collection: boolean) =>
  hrefOf(prefix, path === "" ? [] : path.split("/"), collection);

export function activeLockXml(lock: DavLock, rootHref: string, nowMs: number): string {
  const left = Math.max(0, Math.ceil((Number(lock.expiresAtMs) - nowMs) / 1000));
  return (
    "<d:activelock><d:locktype><d:write/></d:locktype>" +
    `<d:lockscope>${lock.exclusive ? "<d:exclusive/>" : "<d:shared/>"}</d:lockscope>` +
    `<d:depth>${lock.deep ? "infinity" : "0"}</d:depth>` +
    (lock.ownerXml ? `<d:owner>${lock.ownerXml}</d:owner>` : "") +
    `<d:timeout>Second-${left}</d:timeout>` +
    `<d:locktoken><d:href>${esc(lock.token)}</d:href></d:locktoken>` +
    `<d:lockroot><d:href>${esc(rootHref)}</d:href></d:lockroot></d:activelock>`
  );
}

export const SUPPORTED_LOCK =
  "<d:lockentry><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>" +
  "<d:lockentry><d:lockscope><d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>";

/** A DAV:error answer whose precondition element lists hrefs (lock-token-submitted, no-conflicting-lock). */
export function lockError(status: number, condition: string, hrefs: string[], message: string): Response {
  const inner = hrefs.map((h) => `<d:href>${esc(h)}</d:href>`).join("");
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<d:error ${NAMESPACE_DECLS}><d:${condition}>${inner}</d:${condition}><oc:message>${esc(message)}</oc:message></d:error>`;
  return new Response(body, { status, headers: { "content-type": "application/xml; charset=utf-8" } });
}
