// PROPFIND (RFC 4918 9.1): depth 0 or 1 (infinity is refused with propfind-finite-depth), the body
// parsed for allprop / propname / prop, and the answer streamed: the folder itself first, then its
// children a page of FileService's listing at a time (one query per page, never the whole folder held).
import { Code, ConnectError } from "@connectrpc/connect";
import { hrefOf } from "./paths.ts";
import { type DeadProps, type PropRequest, type Quota, responseXml, wantsQuota } from "./props.ts";
import { type Entry, entryOf, LIST_PAGE, type TreeCtx } from "./tree.ts";
import { BadXmlError, DAV_NS, davError, NAMESPACE_DECLS, OC_NS, parseXml, type XmlElement } from "./xml.ts";

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
  const wantsDead = (ids: string[]) =>
    request.kind === "prop" && request.props.every((p) => p.ns === DAV_NS || p.ns === OC_NS)
      ? Promise.resolve(new Map<string, DeadProps>())
      : deadOf(ids);
  const selfDead = await wantsDead([entry.id]);
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
  // The first page is read before answering, so a failure is still an error status.
  const first = await ctx.files.listFiles({ parentId: entry.id, pageSize: LIST_PAGE }, ctx.call);
  const enc = new TextEncoder();
  const pageXml = async (files: typeof first.files) => {
    const dead = await wantsDead(files.map((f) => f.id));
    return files
      .map((f) => {
        const e = entryOf(f);
        const at = [...names, f.name];
        return responseXml(hrefOf(prefix, at, e.folder), e, request, quota, dead.get(f.id), lockXml?.(at));
      })
      .join("");
  };
  const firstXml = await pageXml(first.files);
  let token = first.nextPageToken;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode(head + self + firstXml));
      if (!token) {
        c.enqueue(enc.encode("</d:multistatus>"));
        c.close();
      }
    },
    async pull(c) {
      try {
        const page = await ctx.files.listFiles(
          { parentId: entry.id, pageSize: LIST_PAGE, pageToken: token },
          ctx.call,
        );
        c.enqueue(enc.encode(await pageXml(page.files)));
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
