// The server of bench/zip-paths.ts: one Bun.serve that answers the same bytes (ZIP_PATHS_FILES slices of
// the payload, each after a 64-byte stand-in for a local header) in each of the ways Bun lets a handler
// send file bytes, so that their CPU cost per GiB and their framing (Content-Length or chunked) can be
// compared in one run. Not a ZIP: only the serving paths are measured.
//   /whole           Bun.file() of the payload: sendfile(2), the whole-file download's path.
//   /stream?crc=1|0  a direct stream of Bun.file().slice().stream() chunks, each freed after it is
//                    written, CRC-32 chained over them or not: workers/download/zip.ts's path today (crc=1)
//                    and what a stored CRC-32 per blob would leave of it (crc=0).
//   /buffer?crc=1|0  a direct stream of one reused buffer filled by FileHandle.read: no new memory per chunk.
//   /blob-parts      new Blob([header, Bun.file().slice(), …]): whether Bun keeps file parts (it does not:
//                    the body holds the headers only).
import { open } from "node:fs/promises";
import { crc32 } from "node:zlib";

const MiB = 1024 * 1024;
const path = process.env.ZIP_PATHS_PAYLOAD ?? "";
const FILES = Number(process.env.ZIP_PATHS_FILES ?? 64);
const SIZE = Number(process.env.ZIP_PATHS_FILE_SIZE ?? 4 * MiB);
const HEADER = new Uint8Array(64).fill(0x50);
const LENGTH = FILES * (HEADER.byteLength + SIZE);

/** Bun's ReadableStream constructor with its "direct" overload (lib.dom's types lack it). */
const DirectStream = ReadableStream as unknown as new (
  source: Bun.DirectUnderlyingSource<Uint8Array>,
) => ReadableStream<Uint8Array>;

/** A response whose body the handler writes (as workers/download/zip.ts does), its length announced. */
function streamed(body: (c: Sink) => Promise<void>) {
  const source = { type: "direct", pull: (c: unknown) => body(c as Sink) };
  return new Response(new DirectStream(source as Bun.DirectUnderlyingSource<Uint8Array>), {
    headers: { "content-length": String(LENGTH) },
  });
}

interface Sink {
  write(b: Uint8Array): number | Promise<number>;
  close(): void;
}

async function put(c: Sink, b: Uint8Array) {
  const w = c.write(b);
  if (w instanceof Promise) await w;
}

const free = (b: Uint8Array) => {
  const buffer = b.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  if (b.byteOffset === 0 && b.byteLength === buffer.byteLength) buffer.transfer?.(0);
};

async function slices(c: Sink, crc: boolean) {
  for (let i = 0; i < FILES; i++) {
    await put(c, HEADER);
    let x = 0;
    const s = Bun.file(path)
      .slice(i * SIZE, (i + 1) * SIZE)
      .stream();
    for await (const chunk of s as unknown as AsyncIterable<Uint8Array>) {
      if (crc) x = crc32(chunk, x);
      await put(c, chunk);
      free(chunk);
    }
  }
  c.close();
}

const reused = new Uint8Array(MiB);
async function buffered(c: Sink, crc: boolean) {
  const fh = await open(path, "r");
  try {
    for (let i = 0; i < FILES; i++) {
      await put(c, HEADER);
      let x = 0;
      for (let at = 0; at < SIZE; ) {
        const { bytesRead } = await fh.read(reused, 0, Math.min(reused.byteLength, SIZE - at), i * SIZE + at);
        if (bytesRead <= 0) throw new Error("the payload ended early");
        const chunk = reused.subarray(0, bytesRead);
        if (crc) x = crc32(chunk, x);
        await put(c, chunk); // the sink has taken the bytes when write() returns: the buffer is free again
        at += bytesRead;
      }
    }
  } finally {
    await fh.close();
  }
  c.close();
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  development: false,
  fetch(req) {
    const url = new URL(req.url);
    const crc = url.searchParams.get("crc") === "1";
    switch (url.pathname) {
      case "/whole":
        return new Response(Bun.file(path).slice(0, FILES * SIZE));
      case "/stream":
        return streamed((c) => slices(c, crc));
      case "/buffer":
        return streamed((c) => buffered(c, crc));
      case "/blob-parts": {
        const parts: BlobPart[] = [];
        for (let i = 0; i < FILES; i++) parts.push(HEADER, Bun.file(path).slice(i * SIZE, (i + 1) * SIZE));
        return new Response(new Blob(parts));
      }
    }
    return new Response("not found", { status: 404 });
  },
});
console.log(`listening on ${server.url}`);
