// Where a WebDAV request points: the mount prefixes (/dav/ and the ownCloud/Nextcloud aliases rclone's
// vendors use) and the path below them as decoded names. Names are checked segment by segment after
// decoding, so "..", "%2e%2e", an encoded "/" or NUL never reach a lookup.

/** A request path taken apart: the prefix the client used (hrefs answer in the same form) and the names. */
export interface DavPath {
  /** The mount prefix as the client wrote it, ending in "/" ("/dav/", "/remote.php/dav/files/ann/"). */
  prefix: string;
  /** The user named in the path (the /remote.php/dav/files/<user>/ form), which must be the caller. */
  user?: string;
  /** Decoded names from the root; [] is the root. */
  names: string[];
  /** The path ended in "/" (a collection asked for as one). */
  slash: boolean;
}

export class BadPathError extends Error {}

const FIXED = ["/dav/", "/remote.php/webdav/"] as const;
const FILES = "/remote.php/dav/files/";
/** Nextcloud's chunked uploads (v2): /remote.php/dav/uploads/<user>/<transfer id>/<chunk> (chunked.ts). */
export const UPLOADS = "/remote.php/dav/uploads/";

/** True when the path is one the WebDAV service answers. */
export function isDavPath(path: string): boolean {
  return (
    path === "/dav" ||
    path === "/remote.php/webdav" ||
    FIXED.some((p) => path.startsWith(p)) ||
    path.startsWith(FILES) ||
    path.startsWith(UPLOADS) ||
    path === "/public.php/webdav" ||
    path.startsWith("/public.php/webdav/")
  );
}

export function decodeName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new BadPathError("the path is not valid percent-encoded UTF-8");
  }
  if (name === "." || name === "..") throw new BadPathError("the path may not contain . or .. segments");
  if (/[\0/\\]/.test(name)) throw new BadPathError("a name may not contain NUL, / or \\");
  return name;
}

/** The raw path of a URL, as sent (the WHATWG parser would already have resolved dot segments). */
export function rawPathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  const h = url.indexOf("#", start);
  const end = Math.min(q < 0 ? url.length : q, h < 0 ? url.length : h);
  return url.slice(start, end);
}

/** The DAV path of a raw request path; undefined when it is not under a mount prefix. */
export function parseDavPath(raw: string): DavPath | undefined {
  if (raw === "/dav" || raw === "/remote.php/webdav") return { prefix: `${raw}/`, names: [], slash: true };
  let prefix: string | undefined = FIXED.find((p) => raw.startsWith(p));
  let user: string | undefined;
  if (!prefix && raw.startsWith(FILES)) {
    const end = raw.indexOf("/", FILES.length);
    const rawUser = end < 0 ? raw.slice(FILES.length) : raw.slice(FILES.length, end);
    if (!rawUser) return undefined;
    user = decodeName(rawUser);
    prefix = `${FILES}${rawUser}/`;
  }
  if (!prefix) return undefined;
  const rest = raw.length >= prefix.length ? raw.slice(prefix.length) : "";
  const slash = rest === "" || rest.endsWith("/");
  const trimmed = rest.endsWith("/") ? rest.slice(0, -1) : rest;
  const names =
    trimmed === ""
      ? []
      : trimmed.split("/").map((n) => {
          if (n === "") throw new BadPathError("the path has an empty segment (//)");
          return decodeName(n);
        });
  return { prefix, user, names, slash };
}

/** The href of an entry: the prefix plus each name encoded, with a trailing "/" for a collection. */
export function hrefOf(prefix: string, names: string[], collection: boolean): string {
  const path = prefix + names.map((n) => encodeURIComponent(n)).join("/");
  return collection && names.length > 0 ? `${path}/` : path;
}
