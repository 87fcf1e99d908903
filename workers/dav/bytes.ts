// GET/HEAD and PUT: the bytes go through the download and upload data planes, streamed (Range and
// conditional headers as they came; a PUT body with or without Content-Length), as the caller.
import { FILES_PATH, UPLOAD_PATH } from "../../core/data-paths.ts";
import type { DavUpstream } from "./clients.ts";
import { planeStatusOf, text } from "./status.ts";
import type { Entry } from "./tree.ts";

const PASSED = ["range", "if-range", "if-none-match", "if-modified-since"];

export async function getFile(
  download: DavUpstream,
  req: Request,
  entry: Entry,
  token: string,
  clientIp: string,
): Promise<Response> {
  const auth = { authorization: `Bearer ${token}`, "x-forwarded-for": clientIp };
  return fromDownloadPlane(download, req, FILES_PATH + encodeURIComponent(entry.id), auth);
}

/**
 * GET/HEAD of a download-plane path (with its query) as the client asked: its Range and conditional
 * headers passed on, the answer streamed back without Content-Disposition (a share link's file too).
 */
export async function fromDownloadPlane(
  download: DavUpstream,
  req: Request,
  pathAndQuery: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  // The content as it is now: a client reads back at once what it just PUT under the same file id.
  const headers = new Headers({ ...extra, "cache-control": "no-cache" });
  for (const h of PASSED) {
    const v = req.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  const res = await download.fetch(
    new Request(new URL(pathAndQuery, download.url), { method: req.method, headers, signal: req.signal }),
  );
  if (res.status >= 400 && res.status !== 416) return planeStatusOf(res);
  // The plane's own answer where its headers may change (the in-process host of the all-in-one mode): its
  // body stays what the download worker made (a file Bun sends with sendfile), not a stream piped through.
  try {
    res.headers.delete("content-disposition");
    return res;
  } catch {
    const out = new Headers(res.headers);
    out.delete("content-disposition");
    return new Response(res.body, { status: res.status, headers: out });
  }
}

/** OC-Checksum "SHA1:<hex>" / "MD5:<hex>" / "SHA256:<hex>" (several may be sent, space-separated). */
function checksumsOf(header: string | null): Map<string, string> {
  const sums = new Map<string, string>();
  for (const part of (header ?? "").split(/\s+/)) {
    const colon = part.indexOf(":");
    if (colon > 0) sums.set(part.slice(0, colon).toUpperCase(), part.slice(colon + 1).toLowerCase());
  }
  return sums;
}

/**
 * A body that fails at its end when its SHA-1 or MD5 is not the one the client announced, so that the
 * upload plane keeps nothing (SHA-256 it checks itself, from X-Content-SHA256). The last chunk is held
 * back until the digest is known: over the network the plane must not receive every byte (with a
 * Content-Length it would complete) before the failure cuts the body short.
 */
function checked(body: ReadableStream<Uint8Array>, algo: "sha1" | "md5", want: string) {
  const hash = new Bun.CryptoHasher(algo);
  let held: Uint8Array | undefined;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        if (chunk.byteLength === 0) return;
        hash.update(chunk);
        if (held) c.enqueue(held);
        held = chunk;
      },
      flush(c) {
        const got = hash.digest("hex");
        if (got !== want)
          c.error(new Error(`OC-Checksum ${algo.toUpperCase()} mismatch: the body's is ${got}`));
        else if (held) c.enqueue(held);
      },
    }),
  );
}

/** The digest of an empty body, for a checksum announced with Content-Length: 0 (nothing to hold back). */
const emptyDigest = (algo: "sha1" | "md5") => new Bun.CryptoHasher(algo).digest("hex");

export async function putFile(
  upload: DavUpstream,
  req: Request,
  parentId: string,
  name: string,
  token: string,
  clientIp: string,
): Promise<{ res?: Response; sha256?: string; id?: string }> {
  const headers = new Headers({ authorization: `Bearer ${token}`, "x-forwarded-for": clientIp });
  const length = req.headers.get("content-length") ?? req.headers.get("x-announced-content-length");
  if (length !== null) headers.set("content-length", length);
  const sums = checksumsOf(req.headers.get("oc-checksum"));
  const sha256 = sums.get("SHA256") ?? req.headers.get("x-content-sha256");
  if (sha256) headers.set("x-content-sha256", sha256);
  for (const algo of ["sha1", "md5"] as const) {
    const want = sums.get(algo.toUpperCase());
    if (want && length === "0" && want !== emptyDigest(algo))
      return { res: text(400, `OC-Checksum ${algo.toUpperCase()} does not match the empty body`) };
  }
  let body: ReadableStream<Uint8Array> = req.body ?? new Blob([]).stream();
  if (sums.has("SHA1")) body = checked(body, "sha1", sums.get("SHA1") as string);
  else if (sums.has("MD5")) body = checked(body, "md5", sums.get("MD5") as string);
  const q = new URLSearchParams({ name, parent_id: parentId, on_conflict: "replace" });
  let res: Response;
  try {
    res = await upload.fetch(
      new Request(new URL(`${UPLOAD_PATH}?${q}`, upload.url), {
        method: "PUT",
        headers,
        body,
        signal: req.signal,
        duplex: "half",
      } as RequestInit),
    );
  } catch (err) {
    if (String(err).includes("OC-Checksum")) return { res: text(400, String((err as Error).message)) };
    throw err;
  }
  if (res.status !== 201 && res.status !== 200) {
    // A body cut by the checksum check reaches the plane as a broken stream.
    if (sums.has("SHA1") || sums.has("MD5")) {
      const r = await planeStatusOf(res);
      return { res: r.status >= 500 ? text(400, "OC-Checksum does not match the body") : r };
    }
    return { res: await planeStatusOf(res) };
  }
  const j = (await res.json()) as { file?: { id?: string; sha256?: string } };
  return { sha256: j.file?.sha256, id: j.file?.id };
}
