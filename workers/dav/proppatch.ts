// PROPPATCH (RFC 4918 9.2): dead properties set and removed in one transaction of DavPropertyService, all
// or nothing. Live properties are protected (403 cannot-modify-protected-property) except the Windows
// Win32* times, accepted and stored as dead properties; when any instruction fails, the others answer 424.
import { Code, ConnectError } from "@connectrpc/connect";
import type { MetaClient } from "../lib/meta-client.ts";
import type { DeadProps } from "./props.ts";
import type { Entry } from "./tree.ts";
import { BadXmlError, DAV_NS, element, esc, innerXml, NAMESPACE_DECLS, type XmlElement } from "./xml.ts";

interface Instruction {
  ns: string;
  name: string;
  value?: string;
  /** The value's text (for the times that set the modification time). */
  text?: string;
}

const MS_NS = "urn:schemas-microsoft-com:";
/** getlastmodified, or Windows' Win32LastModifiedTime: a set of either sets the entry's modification time. */
const setsTime = (i: Instruction) =>
  i.value !== undefined &&
  ((i.ns === DAV_NS && i.name === "getlastmodified") ||
    (i.ns === MS_NS && i.name === "Win32LastModifiedTime"));

function instructionsOf(body: XmlElement | undefined): Instruction[] {
  if (!body || body.ns !== DAV_NS || body.name !== "propertyupdate")
    throw new BadXmlError("the body must be a DAV:propertyupdate");
  const out: Instruction[] = [];
  for (const op of body.children) {
    if (op.ns !== DAV_NS || (op.name !== "set" && op.name !== "remove")) continue;
    for (const prop of op.children.filter((c) => c.ns === DAV_NS && c.name === "prop"))
      for (const p of prop.children)
        out.push(
          op.name === "set"
            ? { ns: p.ns, name: p.name, value: innerXml(p), text: p.text.trim() }
            : { ns: p.ns, name: p.name },
        );
  }
  if (out.length === 0) throw new BadXmlError("DAV:propertyupdate names no property");
  return out;
}

const protectedProp = (i: Instruction) => i.ns === DAV_NS && !i.name.startsWith("Win32") && !setsTime(i);

export async function proppatch(
  meta: MetaClient,
  ownerId: string,
  entry: Entry,
  href: string,
  body: XmlElement | undefined,
): Promise<Response> {
  const all = instructionsOf(body);
  // A time that does not parse cannot be set: refused like a protected property.
  const timeOf = (i: Instruction) => Date.parse(i.text ?? "");
  const refused = all.filter(
    (i) => protectedProp(i) || (setsTime(i) && !entry.file) || (setsTime(i) && Number.isNaN(timeOf(i))),
  );
  let status = "HTTP/1.1 200 OK";
  let failed: string | undefined;
  if (refused.length === 0) {
    // Later instructions win over earlier ones for the same name (document order, RFC 4918 9.2).
    const last = new Map(all.map((i) => [`${i.ns} ${i.name}`, i]));
    const list = [...last.values()].filter((i) => !(i.ns === DAV_NS && setsTime(i)));
    const time = [...last.values()].find(setsTime);
    try {
      if (time) await meta.setModifiedTime({ ownerId, fileId: entry.id, modifiedAtMs: BigInt(timeOf(time)) });
      await meta.patchDavProperties({
        ownerId,
        fileId: entry.id,
        set: list
          .filter((i) => i.value !== undefined)
          .map((i) => ({ fileId: entry.id, namespace: i.ns, name: i.name, value: i.value })),
        remove: list.filter((i) => i.value === undefined).map((i) => ({ namespace: i.ns, name: i.name })),
      });
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      if (err.code === Code.InvalidArgument || err.code === Code.ResourceExhausted) {
        status =
          err.code === Code.ResourceExhausted ? "HTTP/1.1 507 Insufficient Storage" : "HTTP/1.1 409 Conflict";
        failed = err.rawMessage;
      } else throw err;
    }
  }
  const stat = (props: Instruction[], line: string, extra = "") =>
    props.length
      ? `<d:propstat><d:prop>${props.map((p) => element(p.ns, p.name)).join("")}</d:prop><d:status>${line}</d:status>${extra}</d:propstat>`
      : "";
  const rest = all.filter((i) => !refused.includes(i));
  const xml = refused.length
    ? stat(refused, "HTTP/1.1 403 Forbidden", "<d:error><d:cannot-modify-protected-property/></d:error>") +
      stat(rest, "HTTP/1.1 424 Failed Dependency")
    : stat(rest, status, failed ? `<d:responsedescription>${esc(failed)}</d:responsedescription>` : "");
  return new Response(
    `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus ${NAMESPACE_DECLS}><d:response><d:href>${esc(href)}</d:href>${xml}</d:response></d:multistatus>`,
    { status: 207, headers: { "content-type": "application/xml; charset=utf-8" } },
  );
}

/** The dead properties of entries, by entry id (one query for a page of entries). */
export async function deadPropsOf(
  meta: MetaClient,
  ownerId: string,
  ids: string[],
): Promise<Map<string, DeadProps>> {
  if (ids.length === 0) return new Map();
  const { properties } = await meta.listDavProperties({ ownerId, fileIds: ids });
  return deadPropsMap(properties);
}

/** Dead properties as rows (ListDavProperties, ListDavEntries) by entry id. */
export function deadPropsMap(
  properties: readonly { fileId: string; namespace: string; name: string; value: string }[],
): Map<string, DeadProps> {
  const out = new Map<string, DeadProps>();
  for (const p of properties) {
    const m = out.get(p.fileId) ?? new Map();
    out.set(p.fileId, m);
    m.set(`${p.namespace} ${p.name}`, { ns: p.namespace, name: p.name, xml: p.value });
  }
  return out;
}

/** COPY: the copy gets the dead properties of its source (RFC 4918 9.8.2), in one patch. */
export async function copyDeadProps(meta: MetaClient, ownerId: string, fromId: string, toId: string) {
  const { properties } = await meta.listDavProperties({ ownerId, fileIds: [fromId] });
  if (properties.length === 0) return;
  await meta.patchDavProperties({
    ownerId,
    fileId: toId,
    set: properties.map((p) => ({ ...p, fileId: toId })),
  });
}
