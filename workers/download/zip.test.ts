// The ZIP core with synthetic streams, checked by Python's zipfile and `unzip -t`: a file past 4 GiB and an
// entry after it (ZIP64 sizes and offsets), UTF-8 names flagged, folders (empty ones too), stored entries,
// names sanitized, the predicted length exact; bytes that are not the listed length fail the stream.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ZipEntry, zipLength, zipPath, zipResponse, zipStream } from "./zip.ts";
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
