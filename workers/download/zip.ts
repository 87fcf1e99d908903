// A folder as a ZIP, streamed as it is built: stored entries (no compression: most large files are
// compressed already), ZIP64 whenever a size, an offset or the count needs it, UTF-8 names (general-purpose
// bit 11), and the exact length predicted from the listing before the first byte (zip-records.ts writes
// the records). Each file's bytes are opened only when the archive reaches it and read as the client takes
// them, so memory stays flat whatever the size; a file whose bytes are gone or not the listed length errors
// the stream (the client sees a cut-off download, never an archive with wrong bytes).
//
// Hand-written rather than client-zip (which did this before): client-zip computes the CRC-32 of every
// byte in JavaScript (~95 MB/s, 5.3 s of CPU per GiB), which made a folder ZIP 0.12-0.26 x the speed of a
// whole-file download; node:zlib's crc32 is native (~15 GB/s here) and chains over chunks (crc32(chunk,
// previous)), and the writer is the few records of zip-records.ts. An entry whose CRC-32 is stored with
// its content (ZipEntry.crc32) is not summed at all; one that is not is summed once, and the caller stores
// the result (ZipHooks.computed). What remains is moving the bytes through JavaScript: Bun.serve sends a
// single file with sendfile(2), but has no body of several file slices (bench/zip-paths.ts measures both).
// A local blob is read into one buffer per archive, reused for every chunk (EntryFile): a stream of
// Bun.file() hands out a fresh 512 KiB buffer per chunk, whose allocation, page faults and collection
// cost as much CPU again as the copies (profiled in the all-in-one: 1.3 s/GiB with those buffers left to
// the collector, 0.88 s/GiB freeing each after its write, 0.6-0.65 s/GiB with the reused buffer).
import { crc32 } from "node:zlib";
import { contentDisposition } from "./http.ts";
import {
  centralHeader,
  descriptor,
  dosDateTime,
  endRecords,
  layout,
  localHeader,
  type ZipLayout,
  type ZipRecord,
} from "./zip-records.ts";

/** An entry of the archive, as the folder listing gives it. */
export interface ZipEntry {
  /** Relative to the folder, "/"-separated (sanitized here again, see zipPath). */
  path: string;
  kind: "file" | "folder";
  size: number;
  /** Modification time, ms since the epoch. */
  updatedAt: number;
  /**
   * The bytes' CRC-32 when it is known (stored with the content): the archive then sends them without
   * computing one. A wrong one is not noticed here (a reader's check of the entry fails).
   */
  crc32?: number;
}

/** Hooks of an archive being written. */
export interface ZipHooks<E extends ZipEntry> {
  /** An entry without a known CRC-32 has been sent whole with this one (to be stored for next time). */
  computed?(entry: E, crc32: number): void;
}

/**
 * A file the archive reads by position into one buffer of its own, reused for every chunk (a local blob):
 * no new memory per chunk, so nothing for the garbage collector, no page faults of fresh buffers, and RSS
 * flat. Closed by the archive once the entry is sent (or the stream stops).
 */
export interface EntryFile {
  /** Reads up to `into.byteLength` bytes at `position` into `into`; how many (0 at the end). */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

/** A file entry's bytes: a stream (S3, tests), or a file read into the archive's buffer (local disk). */
export type EntryBytes = ReadableStream<Uint8Array> | { file: EntryFile };

/** Opens a file entry's bytes (exactly entry.size of them). */
export type OpenEntry<E extends ZipEntry> = (entry: E) => Promise<EntryBytes>;

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

/** The error of an entry whose bytes are not its listed size (a blob shorter or longer than its row). */
const notListed = (name: string, size: number) =>
  new Error(`"${name}": the stored bytes are not the ${size} listed`);

/** Where everything of the archive falls (zip-records.ts), names sanitized, folders "/"-terminated. */
function layoutOf(entries: readonly ZipEntry[]): ZipLayout {
  const utf8 = new TextEncoder();
  return layout(
    entries.map((e) => {
      const path = zipPath(e.path);
      if (path === "") throw new Error(`a ZIP entry needs a name ("${e.path}")`);
      const dir = e.kind === "folder";
      return {
        name: utf8.encode(dir ? `${path}/` : path),
        dir,
        size: dir ? 0 : e.size,
        dosTime: dosDateTime(e.updatedAt),
      };
    }),
  );
}

/** The archive's exact length in bytes. */
export const zipLength = (entries: readonly ZipEntry[]): bigint => BigInt(layoutOf(entries).length);

/** Up to this many bytes of central directory headers go out as one chunk. */
const CENTRAL_CHUNK = 64 * 1024;

/** A local file entry is read in chunks of this size, into one buffer per archive (EntryFile). */
const READ_CHUNK = 512 * 1024;

/**
 * A stream entry's bytes, passed on chunk by chunk as they arrive, their CRC-32 chained over them
 * (node:zlib's crc32, native) unless it is `known` already; fails on the first byte past `size` or at an
 * early end. Returns the CRC-32.
 */
async function* streamBytes(
  stream: ReadableStream<Uint8Array>,
  r: ZipRecord,
  path: string,
  known: number | undefined,
): AsyncGenerator<Uint8Array, number> {
  const reader = stream.getReader();
  let seen = 0;
  let crc = 0;
  try {
    for (let c = await reader.read(); !c.done; c = await reader.read()) {
      const chunk = c.value;
      if (chunk.byteLength === 0) continue;
      seen += chunk.byteLength;
      if (seen > r.size) throw notListed(path, r.size);
      if (known === undefined) crc = crc32(chunk, crc);
      yield chunk;
    }
    if (seen !== r.size) throw notListed(path, r.size);
    return known ?? crc;
  } finally {
    // Done, failed, or the client went away (the generator is returned): the blob's stream is let go.
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * A file entry's bytes, read into `buffer` chunk after chunk: each chunk is a view of the buffer, written
 * out before the next read (the consumer awaits each write before it asks for the next chunk). As
 * streamBytes otherwise: a file shorter or longer than the listed size fails. Returns the CRC-32.
 */
async function* fileBytes(
  file: EntryFile,
  buffer: Uint8Array,
  r: ZipRecord,
  path: string,
  known: number | undefined,
): AsyncGenerator<Uint8Array, number> {
  let crc = 0;
  try {
    for (let at = 0; at < r.size; ) {
      const n = await file.read(buffer.subarray(0, Math.min(buffer.byteLength, r.size - at)), at);
      if (n <= 0) throw notListed(path, r.size);
      const chunk = buffer.subarray(0, n);
      if (known === undefined) crc = crc32(chunk, crc);
      at += n;
      yield chunk;
    }
    if ((await file.read(buffer.subarray(0, 1), r.size)) > 0) throw notListed(path, r.size);
    return known ?? crc;
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** The archive's chunks in order: each file's bytes opened when the archive reaches it, read as it goes. */
async function* archive<E extends ZipEntry>(
  entries: readonly E[],
  open: OpenEntry<E>,
  hooks: ZipHooks<E>,
): AsyncGenerator<Uint8Array> {
  const l = layoutOf(entries);
  // The only state that grows with the archive: a CRC-32 per entry, for the central directory.
  const crcs = new Uint32Array(l.records.length);
  let buffer: Uint8Array | undefined; // the read buffer of file entries, made at the first one
  for (const [i, r] of l.records.entries()) {
    const e = entries[i] as E;
    yield localHeader(r);
    if (r.dir || r.size === 0) continue; // never opened: nothing to read
    const bytes = await open(e);
    const path = zipPath(e.path);
    if (!(bytes instanceof ReadableStream)) buffer ??= new Uint8Array(READ_CHUNK);
    const crc =
      bytes instanceof ReadableStream
        ? yield* streamBytes(bytes, r, path, e.crc32)
        : yield* fileBytes(bytes.file, buffer as Uint8Array, r, path, e.crc32);
    crcs[i] = crc;
    if (e.crc32 === undefined) hooks.computed?.(e, crc);
    yield descriptor(r, crc);
  }
  let batch: Uint8Array[] = [];
  let batched = 0;
  for (const [i, r] of l.records.entries()) {
    const h = centralHeader(r, crcs[i] as number);
    batch.push(h);
    batched += h.byteLength;
    if (batched < CENTRAL_CHUNK) continue;
    yield Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
  }
  if (batched) yield Buffer.concat(batch, batched);
  yield endRecords(l);
}

/** Bun's ReadableStream constructor with its "direct" overload (lib.dom's types, which this project uses, lack it). */
const DirectStream = ReadableStream as unknown as new (
  source: Bun.DirectUnderlyingSource<Uint8Array>,
) => ReadableStream<Uint8Array>;

/**
 * The archive as a stream (its length: zipLength of the same entries). A Bun "direct" stream: each chunk is
 * written straight to the destination (the socket, or a reader's queue), which takes (copies) its bytes
 * when write() returns, so a file entry's read buffer can be refilled at once; write() answers a promise
 * while the destination is full (back-pressure), which is awaited before the next chunk is made or read. A
 * destination gone (cancel) stops the loop and lets the open blob go.
 */
export function zipStream<E extends ZipEntry>(
  entries: readonly E[],
  open: OpenEntry<E>,
  hooks: ZipHooks<E> = {},
): ReadableStream<Uint8Array> {
  const chunks = archive(entries, open, hooks);
  let gone = false;
  const source: Bun.DirectUnderlyingSource<Uint8Array> = {
    type: "direct",
    async pull(c) {
      for (let next = await chunks.next(); !next.done && !gone; next = await chunks.next()) {
        // The destination has the bytes once write() returns (a read buffer is then free to be reused);
        // a promise: it is full, and the next chunk waits.
        const written = c.write(next.value);
        if (written instanceof Promise) await written;
      }
      if (!gone) c.close();
    },
    async cancel() {
      gone = true;
      await chunks.return(undefined); // the open blob stream is cancelled (archive's finally)
    },
  };
  return new DirectStream(source);
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
  hooks: ZipHooks<E> = {},
): Response {
  const headers = {
    "content-type": "application/zip",
    "content-length": String(zipLength(entries)),
    "content-disposition": contentDisposition(`${rootName || "download"}.zip`),
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
  return new Response(method === "HEAD" ? null : zipStream(entries, open, hooks), { status: 200, headers });
}
