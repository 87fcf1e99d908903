// The HTTP semantics of a download, as pure functions: Range (RFC 9110 §14), validators (ETag,
// If-None-Match, If-Range), Content-Type from the name, Content-Disposition (RFC 6266 + RFC 8187).

/** What to send for a Range header, given the size of the content. */
export type RangeDecision =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const FULL: RangeDecision = { kind: "full" };
const RANGE_SPEC = /^(\d*)-(\d*)$/;

/** A decimal position; digits beyond 2^53 only ever mean "past any size". */
const position = (digits: string) => (digits.length > 15 ? Number.MAX_SAFE_INTEGER : Number(digits));

/**
 * A single byte range → partial (end clamped to the last byte) or unsatisfiable (starts past the end, a
 * zero-length suffix, or any range of empty content). No header, another unit, a malformed header and
 * several ranges → the whole content: multipart/byteranges is not offered (a client asking for several
 * ranges gets the whole file, which RFC 9110 allows).
 */
export function parseRange(header: string | null | undefined, size: number): RangeDecision {
  if (!header) return FULL;
  const plain = plainRange(header, size);
  if (plain) return plain;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return FULL;
  const specs = (m[1] as string).split(",").map((s) => s.trim());
  if (specs.length !== 1) return FULL;
  const r = RANGE_SPEC.exec(specs[0] as string);
  if (!r) return FULL;
  const [, first = "", last = ""] = r;
  if (first === "") {
    if (last === "") return FULL;
    const n = position(last);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = position(first);
  if (last !== "" && position(last) < start) return FULL; // invalid: ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: last === "" ? size - 1 : Math.min(position(last), size - 1) };
}

/**
 * `bytes=N-M` or `bytes=N-`, as clients write it (no spaces, at most 15 digits each), decided by reading
 * characters, without the regular expressions, arrays and substrings of the general parse: it runs on
 * every range request. Undefined for anything else, which parseRange then parses in full.
 */
function plainRange(header: string, size: number): RangeDecision | undefined {
  if (!header.startsWith("bytes=")) return undefined;
  const n = header.length;
  let i = 6;
  let start = 0;
  for (; i < n; i++) {
    const d = header.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    start = start * 10 + d;
  }
  if (i === 6 || i - 6 > 15 || header.charCodeAt(i) !== 45 /* - */) return undefined;
  const from = ++i;
  let last = 0;
  for (; i < n; i++) {
    const d = header.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    last = last * 10 + d;
  }
  if (i - from > 15) return undefined;
  const open = i === from;
  if (!open && last < start) return FULL; // invalid: ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: open ? size - 1 : Math.min(last, size - 1) };
}

/** The strong ETag of content: its SHA-256, quoted. */
export const etagOf = (sha256: string) => `"${sha256}"`;

/** If-None-Match (weak comparison): true when the client's copy is current, i.e. answer 304. */
export function noneMatch(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/**
 * If-Range: true when Range applies. Only a strong ETag match counts; a date (this server sends no
 * Last-Modified) or another tag means the client's partial copy is stale: send everything.
 */
export function rangeStillValid(header: string | null | undefined, etag: string): boolean {
  return !header || header.trim() === etag;
}

const TYPES: Record<string, string> = {
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  // Never text/html: the user's HTML is not a page of this origin, even when a browser is told to save it.
  html: "text/plain; charset=utf-8",
  htm: "text/plain; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  xml: "application/xml",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  "7z": "application/x-7z-compressed",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  ico: "image/vnd.microsoft.icon",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  wav: "audio/wav",
  mp4: "video/mp4",
  webm: "video/webm",
  mov: "video/quicktime",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};

/** The Content-Type for a file name's extension; application/octet-stream when unknown. */
export function contentTypeFor(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot < 0) return "application/octet-stream";
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/** RFC 8187 attr-char: what may stay unencoded in filename*. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266). The fallback
 * is for old clients: non-ASCII characters, controls and "%" (which some clients decode) become "_",
 * quotes and backslashes are escaped. Clients that know filename* (every current browser, curl -J)
 * take the exact UTF-8 name from it.
 */
export function contentDisposition(name: string): string {
  let fallback = "";
  for (const ch of name) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x20 || c > 0x7e || ch === "%") fallback += "_";
    else if (ch === '"' || ch === "\\") fallback += `\\${ch}`;
    else fallback += ch;
  }
  let encoded = "";
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte);
    encoded +=
      byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
