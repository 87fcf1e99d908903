// The ZIP core with synthetic streams, checked by Python's zipfile and `unzip -t`: a file past 4 GiB and an
// entry after it (ZIP64 sizes and offsets), UTF-8 names flagged, folders (empty ones too), stored entries,
// names sanitized, the predicted length exact; bytes that are not the listed length fail the stream; file
// entries (local blobs) read into one reused buffer.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { type EntryFile, type ZipEntry, zipLength, zipPath, zipResponse, zipStream } from "./zip.ts";
import { checkZip } from "./zip-check.ts";

const dir = mkdtempSync(join(tmpdir(), "zip-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1 << 20;
const pattern = new Uint8Array(MiB).map((_, i) => (i * 31 + (i >> 8)) & 255);

/** `size` bytes of the pattern, repeated, in 1 MiB chunks. */
function synthetic(size: number): ReadableStream<Uint8Array> {
  let left = size;
  return new ReadableStream({
    pull(c) {
      if (left === 0) return c.close();
      const n = Math.min(left, MiB);
      c.enqueue(n === MiB ? pattern : pattern.subarray(0, n));
      left -= n;
    },
  });
}

function sha256Of(size: number): string {
  const h = createHash("sha256");
  for (let left = size; left > 0; left -= MiB) h.update(pattern.subarray(0, Math.min(left, MiB)));
  return h.digest("hex");
}

type Entry = ZipEntry & { bytes?: string };
const text = (e: Entry) => new Response(e.bytes ?? "").body as ReadableStream<Uint8Array>;

describe("zipPath", () => {
  test("never absolute, never climbing, no backslashes or controls", () => {
    expect(zipPath("/etc/passwd")).toBe("etc/passwd");
    expect(zipPath("../../x")).toBe("__/__/x");
    expect(zipPath("a/./b")).toBe("a/_/b");
    expect(zipPath("a\\..\\b\u0001")).toBe("a_.._b_");
    expect(zipPath("Ünïcode ✓/文件.txt")).toBe("Ünïcode ✓/文件.txt");
  });
});

describe("zipResponse", () => {
  test("HEAD: the headers alone, with the exact length and the folder's name (RFC 6266)", async () => {
    const entries: Entry[] = [{ path: "a", kind: "file", size: 1, updatedAt: 0, bytes: "x" }];
    const r = zipResponse("HEAD", "Été ✓", entries, async () => {
      throw new Error("HEAD must not read bytes");
    });
    expect(r.headers.get("content-length")).toBe(String(zipLength(entries)));
    expect(r.headers.get("content-type")).toBe("application/zip");
    expect(r.headers.get("content-disposition")).toBe(
      `attachment; filename="_t_ _.zip"; filename*=UTF-8''%C3%89t%C3%A9%20%E2%9C%93.zip`,
    );
    expect(await r.text()).toBe("");
  });

  test("bytes shorter or longer than listed, or gone, fail the stream", async () => {
    for (const bytes of ["ab", "abcd"]) {
      const entries: Entry[] = [{ path: "f", kind: "file", size: 3, updatedAt: 0, bytes }];
      await expect(zipResponse("GET", "x", entries, async (e) => text(e)).arrayBuffer()).rejects.toThrow(
        "not the 3 listed",
      );
    }
    const gone: Entry[] = [{ path: "f", kind: "file", size: 3, updatedAt: 0 }];
    await expect(
      zipResponse("GET", "x", gone, async () => {
        throw new Error("blob gone");
      }).arrayBuffer(),
    ).rejects.toThrow("blob gone");
  });
});

/** A stream of the given chunks, one per pull. */
function chunked(parts: string[]): ReadableStream<Uint8Array> {
  const chunks = parts.map((p) => new TextEncoder().encode(p));
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

async function written(name: string, stream: ReadableStream<Uint8Array>): Promise<[string, Uint8Array]> {
  const path = join(dir, name);
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  await Bun.write(path, bytes);
  return [path, bytes];
}

describe("zipStream", () => {
  test("the CRC-32 is chained over the chunks as they come: the known CRC of 123456789, zipfile agrees", async () => {
    // node:zlib's crc32 chains (crc32(b, crc32(a)) = crc32(a + b)): the check value of CRC-32/ISO-HDLC.
    expect(crc32("56789", crc32("1234"))).toBe(0xcbf43926);
    const entries: Entry[] = [{ path: "n", kind: "file", size: 9, updatedAt: 0 }];
    const [path, bytes] = await written(
      "crc.zip",
      zipStream(entries, async () => chunked(["1", "23", "", "456", "789"])),
    );
    const view = new DataView(bytes.buffer);
    const after = 30 + 1 + 9; // local header, the name "n", the bytes: then the data descriptor
    expect(view.getUint32(after, true)).toBe(0x08074b50);
    expect(view.getUint32(after + 4, true)).toBe(0xcbf43926);
    expect((await checkZip(path)).map((m) => [m.name, m.size])).toEqual([["n", 9]]); // zipfile checks the CRC
  });

  test("a stored CRC-32 is sent as it is, not summed; a missing one is summed and handed to computed()", async () => {
    const entries: Entry[] = [
      { path: "known", kind: "file", size: 9, updatedAt: 0, crc32: 0xcbf43926, bytes: "123456789" },
      { path: "unknown", kind: "file", size: 9, updatedAt: 0, bytes: "123456789" },
      { path: "empty", kind: "file", size: 0, updatedAt: 0 },
    ];
    const computed: [string, number][] = [];
    const [path] = await written(
      "stored-crc.zip",
      zipStream(entries, async (e) => text(e), { computed: (e, crc) => computed.push([e.path, crc]) }),
    );
    expect(computed).toEqual([["unknown", 0xcbf43926]]);
    expect((await checkZip(path)).map((m) => [m.name, m.size])).toEqual([
      ["known", 9],
      ["unknown", 9],
      ["empty", 0],
    ]);
    // The stored value is what goes out, unchecked: a wrong one makes the entry fail a reader's check.
    const wrong: Entry[] = [{ path: "w", kind: "file", size: 9, updatedAt: 0, crc32: 1, bytes: "123456789" }];
    const seen: string[] = [];
    const [bad] = await written(
      "wrong-crc.zip",
      zipStream(wrong, async (e) => text(e), { computed: (e) => seen.push(e.path) }),
    );
    expect(seen).toEqual([]);
    await expect(checkZip(bad)).rejects.toThrow();
  }, 60_000);

  test("UTF-8 names: the bytes as UTF-8, bit 11 in the local and the central header", async () => {
    const entries: Entry[] = [
      { path: "Ördner ✓", kind: "folder", size: 0, updatedAt: Date.UTC(2026, 1, 3) },
      {
        path: "Ördner ✓/naïve 文件.txt",
        kind: "file",
        size: 2,
        updatedAt: Date.UTC(2026, 1, 3),
        bytes: "ok",
      },
    ];
    const [path, bytes] = await written(
      "utf8.zip",
      zipStream(entries, async (e) => text(e)),
    );
    expect(BigInt(bytes.byteLength)).toBe(zipLength(entries));
    const view = new DataView(bytes.buffer);
    const name = new TextEncoder().encode("Ördner ✓/");
    expect(view.getUint16(6, true) & 0x800).toBe(0x800);
    expect(view.getUint16(26, true)).toBe(name.byteLength);
    expect(bytes.subarray(30, 30 + name.byteLength)).toEqual(name);
    const members = await checkZip(path);
    expect(members.map((m) => [m.name, m.dir, m.utf8])).toEqual([
      ["Ördner ✓/", true, true],
      ["Ördner ✓/naïve 文件.txt", false, true],
    ]);
  });

  test("65 535 entries and more: ZIP64 end records (the count no longer fits 16 bits)", async () => {
    const entries: Entry[] = Array.from({ length: 70_000 }, (_, i) => ({
      path: `e${i}`,
      kind: "file" as const,
      size: 0,
      updatedAt: 0,
    }));
    const [path, bytes] = await written(
      "many.zip",
      zipStream(entries, async () => text({} as Entry)),
    );
    expect(BigInt(bytes.byteLength)).toBe(zipLength(entries));
    const members = await checkZip(path);
    expect(members.length).toBe(70_000);
    expect(members[69_999]?.name).toBe("e69999");
  }, 120_000);

  test("file entries are read into one reused buffer, the archive's bytes intact; no read-ahead past the reader", async () => {
    const files = [0, 1].map((f) =>
      new Uint8Array(1536 * 1024 + 7).map((_, i) => (i * 7 + f * 13 + (i >> 10)) & 255),
    );
    const entries: Entry[] = files.map((b, i) => ({
      path: `f${i}`,
      kind: "file",
      size: b.byteLength,
      updatedAt: 0,
    }));
    const buffers = new Set<ArrayBufferLike>();
    let reads = 0;
    const closed: string[] = [];
    const reader = zipStream(entries, async (e) => {
      const bytes = files[Number(e.path.slice(1))] as Uint8Array;
      const file: EntryFile = {
        async read(into, position) {
          reads++;
          buffers.add(into.buffer);
          const n = Math.min(into.byteLength, Math.max(0, bytes.byteLength - position));
          into.set(bytes.subarray(position, position + n));
          return n;
        },
        async close() {
          closed.push(e.path);
        },
      };
      return { file };
    }).getReader();
    const header = await reader.read();
    const first = await reader.read();
    // The reader took two chunks: the file has been read a chunk or two further at most (the reader's
    // queue holds what was written), and every chunk it holds kept its bytes while the buffer was refilled.
    expect(reads).toBeLessThanOrEqual(4);
    const rest: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    expect(buffers.size).toBe(1); // one buffer for every read of every file
    expect(closed).toEqual(["f0", "f1"]);
    const all = [header.value, first.value, ...rest].filter(
      (c) => c !== undefined,
    ) as Uint8Array<ArrayBuffer>[];
    const path = join(dir, "files.zip");
    await Bun.write(path, new Blob(all));
    expect(BigInt(statSync(path).size)).toBe(zipLength(entries));
    const hash = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    expect((await checkZip(path)).map((m) => [m.name, m.sha256])).toEqual(
      files.map((b, i) => [`f${i}`, hash(b)]),
    );
  });

  test("a file entry shorter or longer than listed fails the stream and is closed", async () => {
    for (const actual of [2, 4]) {
      let closed = false;
      const file: EntryFile = {
        async read(into, position) {
          const n = Math.min(into.byteLength, Math.max(0, actual - position));
          into.fill(120, 0, n);
          return n;
        },
        async close() {
          closed = true;
        },
      };
      const entries: Entry[] = [{ path: "f", kind: "file", size: 3, updatedAt: 0 }];
      await expect(zipResponse("GET", "x", entries, async () => ({ file })).arrayBuffer()).rejects.toThrow(
        "not the 3 listed",
      );
      expect(closed).toBe(true);
    }
  });

  test("a stream cancelled mid-entry closes the entry's file", async () => {
    let closed = false;
    const file: EntryFile = {
      read: async (into) => into.byteLength,
      async close() {
        closed = true;
      },
    };
    const entries: Entry[] = [{ path: "f", kind: "file", size: 1 << 30, updatedAt: 0 }];
    const reader = zipStream(entries, async () => ({ file })).getReader();
    await reader.read(); // the local header
    await reader.read(); // a first chunk of bytes
    await reader.cancel();
    expect(closed).toBe(true);
  });

  test("a stream cancelled mid-entry cancels the entry's bytes", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(1024)),
      cancel: () => {
        cancelled = true;
      },
    });
    const entries: Entry[] = [{ path: "f", kind: "file", size: 1 << 30, updatedAt: 0 }];
    const reader = zipStream(entries, async () => endless).getReader();
    await reader.read(); // the local header
    await reader.read(); // a first chunk of bytes
    await reader.cancel();
    expect(cancelled).toBe(true);
  });
});

describe("zipStream past 4 GiB", () => {
  test(
    "ZIP64 sizes and offsets, UTF-8 names, folders, stored entries: zipfile and unzip -t agree, length exact",
    async () => {
      const big = 4 * 1024 * MiB + MiB + 7; // past 4 GiB: ZIP64 size, and every later offset too
      const entries: Entry[] = [
        { path: "Dossier ✓", kind: "folder", size: 0, updatedAt: Date.UTC(2025, 0, 2) },
        { path: "Dossier ✓/big.bin", kind: "file", size: big, updatedAt: Date.UTC(2025, 0, 2) },
        { path: "Dossier ✓/empty", kind: "folder", size: 0, updatedAt: Date.UTC(2025, 0, 2) },
        { path: "после.txt", kind: "file", size: 5, updatedAt: Date.UTC(2025, 5, 6), bytes: "hello" },
        { path: "zero", kind: "file", size: 0, updatedAt: Date.UTC(2025, 5, 6) },
        { path: "../escape", kind: "file", size: 2, updatedAt: Date.UTC(2025, 5, 6), bytes: "no" },
      ];
      const path = join(dir, "big.zip");
      const opened: string[] = [];
      await Bun.write(
        path,
        new Response(
          zipStream(entries, async (e) => {
            opened.push(e.path);
            return e.bytes === undefined ? synthetic(e.size) : text(e);
          }),
        ),
      );
      expect(BigInt(statSync(path).size)).toBe(zipLength(entries));
      expect(opened).toEqual(["Dossier ✓/big.bin", "после.txt", "../escape"]); // never a zero-length file
      const members = await checkZip(path);
      const hash = (s: string) => createHash("sha256").update(s).digest("hex");
      expect(members.map((m) => [m.name, m.dir, m.size, m.sha256])).toEqual([
        ["Dossier ✓/", true, 0, hash("")],
        ["Dossier ✓/big.bin", false, big, sha256Of(big)],
        ["Dossier ✓/empty/", true, 0, hash("")],
        ["после.txt", false, 5, hash("hello")],
        ["zero", false, 0, hash("")],
        ["__/escape", false, 2, hash("no")],
      ]);
      expect(members.every((m) => m.method === 0)).toBe(true);
      expect(members.filter((m) => /[^\x20-\x7e]/.test(m.name)).every((m) => m.utf8)).toBe(true);
      expect((members[3]?.offset ?? 0) > 2 ** 32).toBe(true);
    },
    { timeout: 900_000 },
  );
});
