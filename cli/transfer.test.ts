// The bookkeeping of resumable transfers: which parts / chunks remain, and the download sidecar state.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  chunkRange,
  type DownloadState,
  loadState,
  missingChunks,
  partialPath,
  saveState,
} from "./download.ts";
import { tempDirs } from "./testing.ts";
import { destinationFor } from "./transfer-commands.ts";
import { missingParts, partRange, rangeSha256, sha256File } from "./upload.ts";

const tempDir = tempDirs();

describe("upload parts", () => {
  test("ranges: full parts, then the rest", () => {
    expect(partRange(1, 10, 25)).toEqual({ start: 0, end: 10 });
    expect(partRange(3, 10, 25)).toEqual({ start: 20, end: 25 });
  });

  test("missing: parts not held, and held ones of the wrong size", () => {
    const held = [
      { partNumber: 1, size: 10n },
      { partNumber: 2, size: 7n }, // truncated: send again
      { partNumber: 3, size: 10n },
      { partNumber: 9, size: 10n }, // beyond the last part: ignored
    ];
    expect(missingParts(4, 10, 35, held)).toEqual([2, 4]);
    expect(missingParts(1, 10, 0, [])).toEqual([1]);
    expect(
      missingParts(
        3,
        10,
        25,
        [1, 2, 3].map((n) => ({ partNumber: n, size: n === 3 ? 5n : 10n })),
      ),
    ).toEqual([]);
  });

  test("hashes of the whole file and of a challenged range", async () => {
    const path = join(tempDir(), "f");
    writeFileSync(path, "hello world");
    const sha = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
    expect(await sha256File(path)).toBe(sha("hello world"));
    expect(await rangeSha256(path, 6, 5)).toBe(sha("world"));
  });
});

describe("download state", () => {
  const file = { id: "f1", size: 20n, sha256: "ab".repeat(32) };
  const state = (done: number[]): DownloadState => ({
    version: 1,
    fileId: "f1",
    size: 20,
    sha256: file.sha256,
    chunkSize: 8,
    done,
  });

  test("chunks: ranges and what is left", () => {
    expect(chunkRange(2, 8, 20)).toEqual({ start: 16, end: 20 });
    expect(missingChunks(state([]))).toEqual([0, 1, 2]);
    expect(missingChunks(state([2, 0]))).toEqual([1]);
  });

  test("saved and loaded for the same content only, and only with its partial file", () => {
    const dest = join(tempDir(), "movie.mkv");
    saveState(dest, state([0]));
    expect(loadState(dest, file)).toBeUndefined(); // no partial file: start over
    writeFileSync(partialPath(dest), "");
    expect(loadState(dest, file)).toEqual(state([0]));
    expect(loadState(dest, { ...file, sha256: "cd".repeat(32) })).toBeUndefined();
    expect(loadState(dest, { ...file, id: "f2" })).toBeUndefined();
    expect(loadState(dest, { ...file, size: 21n })).toBeUndefined();
  });

  test("destination: the name here, inside a folder, or the path given; unsafe names defused", () => {
    const dir = tempDir();
    expect(destinationFor("a.txt", undefined)).toBe("a.txt");
    expect(destinationFor("a.txt", dir)).toBe(join(dir, "a.txt"));
    expect(destinationFor("a.txt", "new/")).toBe(join("new", "a.txt"));
    expect(destinationFor("a.txt", join(dir, "b.txt"))).toBe(join(dir, "b.txt"));
    expect(destinationFor("..", undefined)).toBe("_");
    expect(destinationFor("x/../../y", undefined)).toBe("x_.._.._y");
  });
});
