import { describe, expect, test } from "bun:test";
import { boundaryOf, MultipartError, readMultipart } from "./multipart.ts";

/** A form encoded by the runtime itself, as a browser would send it. */
async function encode(form: FormData): Promise<{ bytes: Uint8Array; boundary: string }> {
  const res = new Response(form);
  const boundary = boundaryOf(res.headers.get("content-type"));
  if (!boundary) throw new Error("no boundary");
  return { bytes: new Uint8Array(await res.arrayBuffer()), boundary };
}

/** The bytes as a stream of small, oddly sized chunks, so delimiters straddle chunk edges. */
function chunked(bytes: Uint8Array, sizes = [1, 3, 7, 2, 5, 64, 11]): ReadableStream<Uint8Array> {
  let i = 0;
  let k = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= bytes.length) return c.close();
      const n = sizes[k++ % sizes.length] as number;
      c.enqueue(bytes.slice(i, i + n));
      i += n;
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, boundary: string) {
  const out: { name: string; filename?: string; contentType?: string; data: Uint8Array }[] = [];
  for await (const part of readMultipart(body, boundary)) {
    out.push({ ...part, data: new Uint8Array(await new Response(part.body).arrayBuffer()) });
  }
  return out.map(({ name, filename, contentType, data }) => ({ name, filename, contentType, data }));
}

const text = (d: Uint8Array) => new TextDecoder().decode(d);

describe("readMultipart", () => {
  test("fields and files, whatever the chunking", async () => {
    const tricky = new TextEncoder().encode("line\r\n--not-the-boundary\r\n--\r\n-");
    const form = new FormData();
    form.set("username", "alice");
    form.set("file", new File([tricky], 'rep"ort; 中文.txt', { type: "text/plain" }));
    form.set("empty", new File([], "empty.bin"));
    form.set("token", "t0k3n");
    const { bytes, boundary } = await encode(form);
    for (const sizes of [[1], [2, 3], [4096], [7, 1, 13]]) {
      const parts = await collect(chunked(bytes, sizes), boundary);
      expect(parts.map((p) => p.name)).toEqual(["username", "file", "empty", "token"]);
      expect(text(parts[0]?.data as Uint8Array)).toBe("alice");
      expect(parts[1]?.filename).toBe('rep"ort; 中文.txt');
      expect(parts[1]?.contentType).toStartWith("text/plain");
      expect(parts[1]?.data).toEqual(tricky);
      expect(parts[2]?.data.length).toBe(0);
      expect(text(parts[3]?.data as Uint8Array)).toBe("t0k3n");
    }
  });

  test("a large file part streams through intact", async () => {
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const blob = new Blob(Array.from({ length: 160 }, () => big)); // 10 MiB
    const form = new FormData();
    form.set("file", new File([blob], "big.bin"));
    const res = new Response(form);
    const boundary = boundaryOf(res.headers.get("content-type")) as string;
    const hasher = new Bun.CryptoHasher("sha256");
    let size = 0;
    for await (const part of readMultipart(res.body as ReadableStream<Uint8Array>, boundary)) {
      for await (const chunk of part.body as unknown as AsyncIterable<Uint8Array>) {
        hasher.update(chunk);
        size += chunk.length;
      }
    }
    expect(size).toBe(blob.size);
    expect(hasher.digest("hex")).toBe(
      new Bun.CryptoHasher("sha256").update(await blob.arrayBuffer()).digest("hex"),
    );
  });

  test("unread parts are skipped", async () => {
    const form = new FormData();
    form.set("skip", new File(["x".repeat(100_000)], "skip.bin"));
    form.set("keep", "yes");
    const { bytes, boundary } = await encode(form);
    const names: string[] = [];
    let kept = "";
    for await (const part of readMultipart(chunked(bytes, [999]), boundary)) {
      names.push(part.name);
      if (part.name === "keep") kept = await new Response(part.body).text();
    }
    expect([names, kept]).toEqual([["skip", "keep"], "yes"]);
  });

  test.each([
    ["no closing boundary", (b: string) => `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue`],
    ["no boundary at all", () => "just some bytes"],
    ["headers never end", (b: string) => `--${b}\r\nContent-Disposition: form-data; name="a"\r\n`],
    ["no field name", (b: string) => `--${b}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${b}--\r\n`],
    [
      "not form-data",
      (b: string) => `--${b}\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--${b}--\r\n`,
    ],
  ])("malformed: %s → MultipartError", async (_name, make) => {
    const boundary = "XyZ123";
    const run = collect(chunked(new TextEncoder().encode(make(boundary))), boundary);
    await expect(run).rejects.toBeInstanceOf(MultipartError);
  });

  test("too many parts", async () => {
    const form = new FormData();
    for (let i = 0; i < 5; i++) form.set(`f${i}`, "v");
    const { bytes, boundary } = await encode(form);
    const run = (async () => {
      for await (const p of readMultipart(chunked(bytes, [4096]), boundary, { maxParts: 3 }))
        await p.body.cancel();
    })();
    await expect(run).rejects.toBeInstanceOf(MultipartError);
  });

  test("boundaryOf", () => {
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(boundaryOf("multipart/form-data; charset=utf-8; boundary=----x")).toBe("----x");
    expect(boundaryOf("application/json")).toBeUndefined();
    expect(boundaryOf(null)).toBeUndefined();
  });
});

describe("readMultipart streams", () => {
  test("a file part's first bytes come before the rest of the body has arrived", async () => {
    const boundary = "XyZ123";
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n`,
    );
    const first = new Uint8Array(1024 * 1024).fill(7);
    let pulls = 0;
    // Sends the part's headers and 1 MiB of its content, then never sends more (nor the closing boundary).
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          pulls++;
          if (pulls === 1) c.enqueue(head);
          else if (pulls === 2) c.enqueue(first);
          else return new Promise(() => undefined);
        },
      },
      { highWaterMark: 0 },
    );
    let received = 0;
    for await (const part of readMultipart(body, boundary)) {
      const reader = part.body.getReader();
      while (received < first.length - boundary.length - 4) {
        const r = await reader.read();
        if (r.done) break;
        received += r.value.length;
      }
      await reader.cancel();
      break;
    }
    expect(received).toBeGreaterThanOrEqual(first.length - boundary.length - 4);
  });
});
