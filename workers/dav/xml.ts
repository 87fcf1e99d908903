// XML in and out. Request bodies are read to at most MAX_XML_BYTES and parsed by saxes (namespace-aware,
// no DTD entity expansion); any DOCTYPE is refused outright, so no external entity or billion-laughs
// body is ever looked at. Answers are written as strings with every text and attribute escaped.
import { SaxesParser } from "saxes";

export const DAV_NS = "DAV:";
export const OC_NS = "http://owncloud.org/ns";
export const NC_NS = "http://nextcloud.org/ns";
/** The largest request body parsed (PROPFIND, PROPPATCH, LOCK): real clients send well under 10 KiB. */
export const MAX_XML_BYTES = 1024 * 1024;

/** An element of a request body: its namespace, local name, text and child elements. */
export interface XmlElement {
  ns: string;
  name: string;
  text: string;
  children: XmlElement[];
  /** Text and elements in document order (to write a value back as it came). */
  nodes: (string | XmlElement)[];
}

/** A body that is not well-formed XML, too large, or has a DOCTYPE: answered 400 (413 for size). */
export class BadXmlError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The request body as text, refusing more than MAX_XML_BYTES (without reading the rest). */
export async function readBodyText(req: Request, limit = MAX_XML_BYTES): Promise<string> {
  if (!req.body) return "";
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw new BadXmlError(`the request body is over ${limit} bytes`, 413);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BadXmlError(`the request body is over ${limit} bytes`, 413);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new BadXmlError("the request body is not UTF-8");
  }
}

/** The root element of an XML document; undefined for an empty (whitespace-only) body. */
export function parseXml(text: string): XmlElement | undefined {
  if (text.trim() === "") return undefined;
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on("doctype", () => {
    failure ??= new BadXmlError("DOCTYPE declarations are not accepted");
  });
  parser.on("error", (err) => {
    failure ??= new BadXmlError(`malformed XML: ${err.message}`);
  });
  parser.on("opentag", (tag) => {
    const el: XmlElement = {
      ns: tag.uri ?? "",
      name: tag.local ?? tag.name,
      text: "",
      children: [],
      nodes: [],
    };
    const parent = stack.at(-1);
    if (parent) {
      parent.children.push(el);
      parent.nodes.push(el);
    } else root = el;
    stack.push(el);
  });
  const addText = (t: string) => {
    const top = stack.at(-1);
    if (!top) return;
    top.text += t;
    top.nodes.push(t);
  };
  parser.on("text", addText);
  parser.on("cdata", addText);
  parser.on("closetag", () => {
    stack.pop();
  });
  try {
    parser.write(text).close();
  } catch (err) {
    failure ??= new BadXmlError(`malformed XML: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  if (!root) throw new BadXmlError("malformed XML: no root element");
  return root;
}

export const child = (el: XmlElement, ns: string, name: string) =>
  el.children.find((c) => c.ns === ns && c.name === name);

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};
const SPECIAL = /[&<>"']/;
/** Text escaped for XML (most names and values need nothing: tested before any replacing). */
export const esc = (s: string) => (SPECIAL.test(s) ? s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : s);

const PREFIXES: Record<string, string> = { [DAV_NS]: "d", [OC_NS]: "oc", [NC_NS]: "nc" };
export const NAMESPACE_DECLS = `xmlns:d="DAV:" xmlns:oc="${OC_NS}" xmlns:nc="${NC_NS}"`;

/** An element named by namespace and local name, with the given inner XML (empty: self-closing). */
export function element(ns: string, name: string, inner = ""): string {
  const prefix = PREFIXES[ns];
  const tag = prefix ? `${prefix}:${name}` : `x:${name}`;
  const decl = prefix ? "" : ns ? ` xmlns:x="${esc(ns)}"` : ` xmlns:x=""`;
  if (!prefix && !ns) return inner ? `<${name} xmlns="">${inner}</${name}>` : `<${name} xmlns=""/>`;
  return inner ? `<${tag}${decl}>${inner}</${tag}>` : `<${tag}${decl}/>`;
}

/** A DAV:error body with one precondition element (RFC 4918 16). */
export function davError(status: number, condition: string, message?: string): Response {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<d:error ${NAMESPACE_DECLS}><d:${condition}/>${
    message ? `<oc:message>${esc(message)}</oc:message>` : ""
  }</d:error>`;
  return new Response(body, { status, headers: { "content-type": "application/xml; charset=utf-8" } });
}

/**
 * An element's content written back as XML (a dead property's value): text escaped, each child element
 * with its own namespace declared on it (prefixes renamed, as XML namespaces allow).
 */
export function innerXml(el: XmlElement, depth = 0): string {
  let n = depth;
  return el.nodes
    .map((node) => {
      if (typeof node === "string") return esc(node);
      const p = `n${n++}`;
      const tag = node.ns ? `${p}:${node.name}` : node.name;
      const decl = node.ns ? ` xmlns:${p}="${esc(node.ns)}"` : ' xmlns=""';
      const inner = innerXml(node, n);
      return inner ? `<${tag}${decl}>${inner}</${tag}>` : `<${tag}${decl}/>`;
    })
    .join("");
}
