// A folder as a ZIP, streamed as it is built (client-zip): stored entries (no compression: most large files
// are compressed already), ZIP64 whenever a size or an offset needs it, UTF-8 names (client-zip flags every
// string name with general-purpose bit 11), and the exact length predicted from the listing before the
// first byte. Each file's bytes are opened only when the archive reaches it, so memory stays flat whatever
// the size; a file whose bytes are gone or not the listed length errors the stream (the client sees a
// cut-off download, never an archive with wrong bytes).
import { makeZip, predictLength } from "client-zip";
import { contentDisposition } from "./http.ts";

/** An entry of the archive, as the folder listing gives it. */
export interface ZipEntry {
  /** Relative to the folder, "/"-separated (sanitized here again, see zipPath). */
  path: string;
  kind: "file" | "folder";
  size: number;
  /** Modification time, ms since the epoch. */
  updatedAt: number;
}

/** Opens a file entry's bytes (exactly entry.size of them). */
export type OpenEntry<E extends ZipEntry> = (entry: E) => Promise<ReadableStream<Uint8Array>>;

/**
 * A path safe to extract: never absolute, never climbing ("." and ".." segments become "_"), no
 * backslashes (Windows separators) or control characters, no empty segments.
 */
export function zipPath(path: string): string {
  return path
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced.
      const clean = s.replace(/[\u0000-\u001f\u007f\\]/g, "_");
      return clean === "." || clean === ".." ? "_".repeat(clean.length) : clean;
    })
    .join("/");
}

/** Fails the stream unless exactly `size` bytes pass (a blob shorter or longer than its row). */
function exactly(size: number, path: string): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  const wrong = () => new Error(`"${path}": the stored bytes are not the ${size} listed`);
  return new TransformStream({
    transform(chunk, c) {
      seen += chunk.byteLength;
      if (seen > size) throw wrong();
      c.enqueue(chunk);
    },
    flush() {
      if (seen !== size) throw wrong();
    },
  });
}

/** The archive's entries for client-zip, each file's bytes opened when the archive reaches it. */
async function* inputs<E extends ZipEntry>(entries: readonly E[], open: OpenEntry<E>) {
  for (const e of entries) {
    const name = zipPath(e.path);
    const lastModified = new Date(e.updatedAt);
    if (e.kind === "folder") {
      yield { name, lastModified };
      continue;
    }
    const bytes = e.size === 0 ? new ReadableStream<Uint8Array>({ start: (c) => c.close() }) : await open(e);
    yield { name, lastModified, size: e.size, input: bytes.pipeThrough(exactly(e.size, name)) };
  }
}

/** The archive's exact length in bytes. */
export const zipLength = (entries: readonly ZipEntry[]): bigint =>
  predictLength(
    entries.map((e) =>
      e.kind === "folder" ? { name: zipPath(e.path) } : { name: zipPath(e.path), size: e.size },
    ),
  );

/** The archive as a stream (its length: zipLength of the same entries). */
export function zipStream<E extends ZipEntry>(entries: readonly E[], open: OpenEntry<E>) {
  return makeZip(inputs(entries, open));
}

/**
 * The answer with the archive: `<rootName>.zip` as an attachment, its exact Content-Length; for HEAD the
 * headers alone (no byte is read).
 */
export function zipResponse<E extends ZipEntry>(
  method: string,
  rootName: string,
  entries: readonly E[],
  open: OpenEntry<E>,
): Response {
  const headers = {
    "content-type": "application/zip",
    "content-length": String(zipLength(entries)),
    "content-disposition": contentDisposition(`${rootName || "download"}.zip`),
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
  return new Response(method === "HEAD" ? null : zipStream(entries, open), { status: 200, headers });
}
