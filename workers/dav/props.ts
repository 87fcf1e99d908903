// The properties of an entry (RFC 4918 15, RFC 4331 quota, the ownCloud/Nextcloud extensions rclone reads)
// and the <d:response> elements of a multistatus.

import { httpDate, isoDate } from "./dates.ts";
import { SUPPORTED_LOCK } from "./locks/xml.ts";
import type { Entry } from "./tree.ts";
import { DAV_NS, element, esc, OC_NS } from "./xml.ts";

export interface PropName {
  ns: string;
  name: string;
}

/** What PROPFIND asked for. */
export type PropRequest = { kind: "allprop" } | { kind: "propname" } | { kind: "prop"; props: PropName[] };

/** The caller's usage (RFC 4331), read once per PROPFIND when asked for. */
export interface Quota {
  used: bigint;
  /** Bytes still free; undefined when there is no quota. */
  available?: bigint;
}

const ms = (t: { seconds: bigint; nanos: number } | undefined) =>
  t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0;

/** The strong ETag of an entry: a file's SHA-256 (as the download plane sends), a folder's id and time. */
export function etagOf(e: Entry): string {
  if (!e.file) return '"root"';
  if (!e.folder) return `"${e.file.sha256}"`;
  return `"${e.id}-${ms(e.file.updatedAt).toString(36)}"`;
}

const live: PropName[] = [
  { ns: DAV_NS, name: "resourcetype" },
  { ns: DAV_NS, name: "getcontentlength" },
  { ns: DAV_NS, name: "getcontenttype" },
  { ns: DAV_NS, name: "getetag" },
  { ns: DAV_NS, name: "getlastmodified" },
  { ns: DAV_NS, name: "creationdate" },
  { ns: DAV_NS, name: "displayname" },
  { ns: DAV_NS, name: "lockdiscovery" },
  { ns: DAV_NS, name: "supportedlock" },
  { ns: OC_NS, name: "fileid" },
  { ns: OC_NS, name: "size" },
  { ns: OC_NS, name: "checksums" },
  { ns: OC_NS, name: "permissions" },
];
/** RFC 4331: not part of allprop (they may be costly), answered when named. */
const quotaProps = new Set(["quota-used-bytes", "quota-available-bytes"]);

const TYPES: Record<string, string> = {
  txt: "text/plain",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  js: "text/javascript",
  json: "application/json",
  xml: "application/xml",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  mp4: "video/mp4",
  mp3: "audio/mpeg",
  zip: "application/zip",
};
export const contentTypeOf = (name: string) =>
  TYPES[name.slice(name.lastIndexOf(".") + 1).toLowerCase()] ?? "application/octet-stream";

/** A live property's value as inner XML; undefined when the entry has no such property. */
function value(e: Entry, p: PropName, quota: Quota | undefined, locks?: string): string | undefined {
  const f = e.file;
  if (p.ns === DAV_NS) {
    switch (p.name) {
      case "resourcetype":
        return e.folder ? "<d:collection/>" : "";
      case "getcontentlength":
        return !e.folder && f ? String(f.size) : undefined;
      case "getcontenttype":
        return !e.folder && f ? contentTypeOf(f.name) : undefined;
      case "getetag":
        return esc(etagOf(e));
      case "getlastmodified":
        return f ? httpDate(ms(f.updatedAt)) : undefined;
      case "creationdate":
        return f ? isoDate(ms(f.createdAt)) : undefined;
      case "displayname":
        return f ? esc(f.name) : undefined;
      case "lockdiscovery":
        return locks ?? "";
      case "supportedlock":
        return SUPPORTED_LOCK;
      case "quota-used-bytes":
        return e.folder && quota ? String(quota.used) : undefined;
      case "quota-available-bytes":
        return e.folder && quota ? String(quota.available ?? -3) : undefined;
    }
    return undefined;
  }
  if (p.ns === OC_NS) {
    switch (p.name) {
      case "fileid":
        return f ? esc(f.id) : undefined;
      case "size":
        return f ? String(f.size) : "0";
      case "permissions":
        return e.folder ? "RDNVCK" : "RDNVW";
      case "checksums": {
        if (e.folder || !f) return undefined;
        const sums = [f.sha1 && `SHA1:${f.sha1}`, `SHA256:${f.sha256}`].filter(Boolean).join(" ");
        return `<oc:checksum>${sums}</oc:checksum>`;
      }
    }
  }
  return undefined;
}

/** True when a PROPFIND of these props needs the caller's usage. */
export const wantsQuota = (r: PropRequest) =>
  r.kind === "prop" && r.props.some((p) => p.ns === DAV_NS && quotaProps.has(p.name));

/** Dead properties stored for an entry (PROPPATCH), by namespace + name: inner XML kept as given. */
export type DeadProps = Map<string, { ns: string; name: string; xml: string }>;

/** One <d:response> for an entry. */
export function responseXml(
  href: string,
  e: Entry,
  req: PropRequest,
  quota: Quota | undefined,
  dead: DeadProps | undefined,
  /** The entry's DAV:lockdiscovery (its activelocks), when asked for. */
  locks?: string,
): string {
  const found: string[] = [];
  const missing: string[] = [];
  const names = req.kind === "prop" ? req.props : live;
  for (const p of names) {
    const v = value(e, p, quota, locks);
    const d = v === undefined ? dead?.get(`${p.ns} ${p.name}`) : undefined;
    if (v !== undefined)
      found.push(req.kind === "propname" ? element(p.ns, p.name) : element(p.ns, p.name, v));
    else if (d) found.push(element(p.ns, p.name, d.xml));
    else if (req.kind === "prop") missing.push(element(p.ns, p.name));
  }
  if (req.kind !== "prop" && dead)
    for (const d of dead.values())
      found.push(req.kind === "propname" ? element(d.ns, d.name) : element(d.ns, d.name, d.xml));
  let out = `<d:response><d:href>${esc(href)}</d:href>`;
  if (found.length || !missing.length)
    out += `<d:propstat><d:prop>${found.join("")}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>`;
  if (missing.length)
    out += `<d:propstat><d:prop>${missing.join("")}</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>`;
  return `${out}</d:response>`;
}
