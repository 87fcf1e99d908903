// PROPFIND (RFC 4918 9.1): depth 0 or 1 (infinity is refused with propfind-finite-depth), the body
// parsed for allprop / propname / prop, and the answer streamed: the folder itself first, then its
// children a page at a time from meta's ListDavEntries (one call per page: the listing's index range and
// the page's dead properties), each page rendered and sent before the next is read.
import { Code, ConnectError } from "@connectrpc/connect";
import { allpropListedXml } from "./allprop.ts";
import { NO_LOCKS } from "./locks/discovery.ts";
import { hrefOf } from "./paths.ts";
import { deadPropsMap } from "./proppatch.ts";
import { type DeadProps, type PropRequest, type Quota, responseXml, wantsQuota } from "./props.ts";
import { type Entry, entryOfListed, LIST_PAGE, listedOfColumns, type TreeCtx } from "./tree.ts";
import {
  BadXmlError,
  DAV_NS,
  davError,
  esc,
  NAMESPACE_DECLS,
  OC_NS,
  parseXml,
  type XmlElement,
} from "./xml.ts";

export function propRequestOf(body: XmlElement | undefined): PropRequest {
  if (!body) return { kind: "allprop" };
  if (body.ns !== DAV_NS || body.name !== "propfind")
    throw new BadXmlError("the body must be a DAV:propfind");
  const first = body.children[0];
  if (!first) throw new BadXmlError("DAV:propfind needs allprop, propname or prop");
  if (first.ns === DAV_NS && first.name === "allprop") return { kind: "allprop" };
  if (first.ns === DAV_NS && first.name === "propname") return { kind: "propname" };
  if (first.ns === DAV_NS && first.name === "prop")
    return { kind: "prop", props: first.children.map((c) => ({ ns: c.ns, name: c.name })) };
  throw new BadXmlError("DAV:propfind needs allprop, propname or prop");
}

/** A request for live properties only (DAV: and oc: names), which needs no dead properties read. */
const onlyLive = (r: PropRequest) =>
  r.kind === "prop" && r.props.every((p) => p.ns === DAV_NS || p.ns === OC_NS);

async function quotaOf(ctx: TreeCtx): Promise<Quota> {
  const u = await ctx.files.getUsage({}, ctx.call);
  const used = u.usedBytes + u.reservedBytes;
  return {
    used: u.usedBytes,
    available: u.quotaBytes > 0n ? (u.quotaBytes > used ? u.quotaBytes - used : 0n) : undefined,
  };
}

export async function propfind(
  ctx: TreeCtx,
  entry: Entry,
  names: string[],
  prefix: string,
  depthHeader: string | null,
  bodyText: string,
  /** The dead properties of entries by id (one query for each page). */
  deadOf: (ids: string[]) => Promise<Map<string, DeadProps>>,
  /** The lockdiscovery of entries by their names, when the request asks for it. */
  locksOf?: (request: PropRequest) => Promise<((names: string[]) => string) | undefined>,
): Promise<Response> {
  const depth = (depthHeader ?? "infinity").trim().toLowerCase();
  if (depth !== "0" && depth !== "1")
    return davError(403, "propfind-finite-depth", "PROPFIND answers Depth 0 or 1 only");
  const request = propRequestOf(parseXml(bodyText));
  const quota = wantsQuota(request) ? await quotaOf(ctx) : undefined;
  const lockXml = await locksOf?.(request);
  const selfDead = onlyLive(request) ? new Map<string, DeadProps>() : await deadOf([entry.id]);
  const self = responseXml(
    hrefOf(prefix, names, entry.folder),
    entry,
    request,
    quota,
    selfDead.get(entry.id),
    lockXml?.(names),
  );
  const head = `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus ${NAMESPACE_DECLS}>`;
  const headers = { "content-type": "application/xml; charset=utf-8" };
  if (depth === "0" || !entry.folder)
    return new Response(`${head}${self}</d:multistatus>`, { status: 207, headers });
  // The first page is read before answering, so a failure is still an error status. Each page is one
  // meta call (entries and their dead properties), rendered and sent before the next is asked for.
  const withProperties = !onlyLive(request);
  const pageOf = (pageToken: string) =>
    ctx.meta.listDavEntries({
      ownerId: ctx.ownerId,
      parentId: entry.id,
      pageSize: LIST_PAGE,
      pageToken,
      withProperties,
    });
  const enc = new TextEncoder();
  /** The folder's href, ending in "/": each child's is it plus the child's encoded name. */
  const base = hrefOf(prefix, names, true);
  const escapedBase = esc(base);
  const childLocks = lockXml && lockXml !== NO_LOCKS ? (name: string) => lockXml([...names, name]) : () => "";
  // Each page is one string made by one join (concatenating a thousand responses made a rope that the
  // encoder then had to flatten), encoded once.
  const pageXml = (page: Awaited<ReturnType<typeof pageOf>>) => {
    const dead = deadPropsMap(page.properties);
    const rows = listedOfColumns(page.entries);
    const parts = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as (typeof rows)[number];
      const encoded = `${encodeURIComponent(r.name)}${r.folder ? "/" : ""}`;
      const props = dead.get(r.id);
      const locks = childLocks(r.name);
      parts[i] =
        request.kind === "allprop" && !props
          ? allpropListedXml(`${escapedBase}${esc(encoded)}`, r, locks)
          : responseXml(`${base}${encoded}`, entryOfListed(r, entry.id), request, quota, props, locks);
    }
    return parts.join("");
  };
  const first = await pageOf("");
  const firstXml = pageXml(first);
  let token = first.nextPageToken;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode(head + self));
      c.enqueue(enc.encode(firstXml));
      if (!token) {
        c.enqueue(enc.encode("</d:multistatus>"));
        c.close();
      }
    },
    async pull(c) {
      try {
        const page = await pageOf(token);
        c.enqueue(enc.encode(pageXml(page)));
        token = page.nextPageToken;
        if (!token) {
          c.enqueue(enc.encode("</d:multistatus>"));
          c.close();
        }
      } catch (err) {
        c.error(err instanceof ConnectError ? err : new ConnectError(String(err), Code.Internal));
      }
    },
  });
  return new Response(body, { status: 207, headers });
}
