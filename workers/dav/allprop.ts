// The <d:response> of an entry for an allprop PROPFIND without dead properties, written in one template:
// a Depth 1 listing renders thousands of them, and the general responseXml (a lookup per property, an
// element() call each) took ~3× as long. It works on a listing's entries as their columns come
// (ListedEntry: no File message made); its output is exactly responseXml's (allprop.test.ts holds it).
import { httpDate, isoDate } from "./dates.ts";
import { SUPPORTED_LOCK } from "./locks/xml.ts";
import { contentTypeOf } from "./props.ts";
import type { Entry, ListedEntry } from "./tree.ts";
import { esc } from "./xml.ts";

const ms = (t: { seconds: bigint; nanos: number } | undefined) =>
  t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0;

const OK = "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>";
const NO_LOCKS = `<d:lockdiscovery/><d:supportedlock>${SUPPORTED_LOCK}</d:supportedlock>`;

/** An entry with its file (every entry of a listing) as a ListedEntry. */
export function listedOf(e: Entry): ListedEntry {
  const f = e.file;
  if (!f) throw new Error("allprop's template needs an entry with its file");
  return {
    id: f.id,
    name: f.name,
    folder: e.folder,
    size: Number(f.size),
    createdMs: ms(f.createdAt),
    updatedMs: ms(f.updatedAt),
    sha256: f.sha256,
    sha1: f.sha1,
  };
}

/**
 * allprop for an entry of a listing, with its href already escaped for XML and its DAV:lockdiscovery (its
 * activelocks' XML, "" for none). SHA-256 and SHA-1 are hex and need no escaping (the ETag's quotes do).
 */
export function allpropListedXml(escapedHref: string, r: ListedEntry, locks: string): string {
  const head = `<d:response><d:href>${escapedHref}</d:href><d:propstat><d:prop>`;
  const id = esc(r.id);
  const etag = r.folder ? `&quot;${id}-${r.updatedMs.toString(36)}&quot;` : `&quot;${r.sha256}&quot;`;
  const dates = `<d:getetag>${etag}</d:getetag><d:getlastmodified>${httpDate(r.updatedMs)}</d:getlastmodified><d:creationdate>${isoDate(r.createdMs)}</d:creationdate><d:displayname>${esc(r.name)}</d:displayname>`;
  const lockProps = locks
    ? `<d:lockdiscovery>${locks}</d:lockdiscovery><d:supportedlock>${SUPPORTED_LOCK}</d:supportedlock>`
    : NO_LOCKS;
  if (r.folder)
    return `${head}<d:resourcetype><d:collection/></d:resourcetype>${dates}${lockProps}<oc:fileid>${id}</oc:fileid><oc:size>${r.size}</oc:size><oc:permissions>RDNVCK</oc:permissions></d:prop>${OK}`;
  const sums = r.sha1 ? `SHA1:${r.sha1} SHA256:${r.sha256}` : `SHA256:${r.sha256}`;
  return `${head}<d:resourcetype/><d:getcontentlength>${r.size}</d:getcontentlength><d:getcontenttype>${contentTypeOf(r.name)}</d:getcontenttype>${dates}${lockProps}<oc:fileid>${id}</oc:fileid><oc:size>${r.size}</oc:size><oc:checksums><oc:checksum>${sums}</oc:checksum></oc:checksums><oc:permissions>RDNVW</oc:permissions></d:prop>${OK}`;
}

/** allprop for an entry with a file (the root goes through responseXml), as allpropListedXml writes it. */
export const allpropXml = (href: string, e: Entry, locks: string): string =>
  allpropListedXml(esc(href), listedOf(e), locks);
