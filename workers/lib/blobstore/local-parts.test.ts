// The local store's multipart sessions: parts written in place into the session's one file, the
// whole-file hash computed in the background as parts 1..k arrive (used at completion only when every
// part it read is still the one on disk; otherwise the file is read again), the locks that keep two
// writers of one part, or a writer and completion, apart, and what a failed write leaves. Which way
// completion went is observed through the onAssemble hook.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { PartsBusyError } from "./errors.ts";
import { type AssembleEvent, createLocalBlobStore, type LocalBlobStoreOptions } from "./local/index.ts";
import type { BlobStore } from "./types.ts";

const KiB = 1024;
const PART = 256 * KiB;

function hashes(bytes: Uint8Array) {
  return {
    sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"),
    sha1: new Bun.CryptoHasher("sha1").update(bytes).digest("hex"),
    size: bytes.byteLength,
  };
}

const body = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream();
const sessionId = () => `s_${randomBytes(12).toString("hex")}`;

/** A body that sends `first`, then waits for release() before sending `rest` (or failing). */
function heldBody(first: Uint8Array, rest: Uint8Array) {
  let release: (fail?: boolean) => void = () => undefined;
  const gate = new Promise<boolean>((resolve) => {
    release = (fail = false) => resolve(fail);
  });
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(first);
        return;
      }
      if (await gate) controller.error(new Error("connection reset"));
      else {
        if (rest.byteLength > 0) controller.enqueue(rest);
        controller.close();
      }
    },
  });
  return { stream, release };
}

// Both ways bodies go to disk while they arrive: write-behind (Linux) and background fdatasyncs.
for (const writeBehind of [true, false])
  describe(`local store: multipart sessions in place (${writeBehind ? "write-behind" : "background fdatasyncs"})`, () => {
    let root: string;
    let events: AssembleEvent[];
    let store: BlobStore;
    const open = (opts: LocalBlobStoreOptions = {}) =>
      createLocalBlobStore(root, { onAssemble: (e) => events.push(e), writeBehind, ...opts });
    /** 4 full parts and a short last one. */
    const data = new Uint8Array(randomBytes(4 * PART + 1234));
    const part = (n: number) => data.subarray((n - 1) * PART, Math.min(n * PART, data.length));
    const opts = (n: number, wholeSha1 = false) => ({
      maxBytes: part(n).length,
      offset: (n - 1) * PART,
      skipSha1: true,
      wholeSha1,
    });
    const put = (s: BlobStore, id: string, n: number, bytes = part(n), wholeSha1 = false) =>
      s.putPart(id, n, body(bytes), opts(n, wholeSha1));
    const tmpFiles = () => readdir(join(root, "tmp"));
    const partFiles = async (id: string) => (await readdir(join(root, "parts", id))).sort();

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), "filestore-parts-"));
      events = [];
      store = await open();
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    /** Assembles, commits, reads back: the hashes of what was stored, and the hashes the staged blob claimed. */
    async function complete(s: BlobStore, id: string, o?: { skipSha1?: boolean }) {
      const staged = await s.assembleParts(id, 5, o);
      const claimed = { sha256: staged.sha256, sha1: staged.sha1, size: staged.size };
      const location = await staged.commit();
      const back = new Uint8Array(await new Response(await s.read(location)).arrayBuffer());
      await s.deleteParts(id);
      return { claimed, stored: hashes(back), location, crc: staged.crc32 };
    }

    /** Completes with skipSha1: the right content, completed the way `how` says, no temp file left. */
    async function completesRight(s: BlobStore, id: string, how: Omit<AssembleEvent, "sessionId">) {
      const { claimed, stored, crc } = await complete(s, id, { skipSha1: true });
      expect(events).toEqual([{ sessionId: id, ...how }]);
      expect([claimed.sha256, stored]).toEqual([hashes(data).sha256, hashes(data)]);
      // The CRC-32 (for folder ZIPs) rides with the SHA-256, whichever way the file was hashed.
      expect(crc).toBe(crc32(data));
      expect(await tmpFiles()).toEqual([]);
    }

    test("parts land in the session's one file; completion links it (no copy) and reads nothing again", async () => {
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      expect(await partFiles(id)).toEqual([
        "1.lock",
        "2.lock",
        "3.lock",
        "4.lock",
        "5.lock",
        "data",
        "lock",
        "records",
      ]);
      expect(await tmpFiles()).toEqual([]);
      const dataIno = (await stat(join(root, "parts", id, "data"))).ino;
      const staged = await store.assembleParts(id, 5, { skipSha1: true });
      expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 0 }]);
      expect(staged.crc32).toBe(crc32(data));
      expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual({
        ...hashes(data),
        sha1: "",
      });
      const location = await staged.commit();
      expect((await stat(join(root, location))).ino).toBe(dataIno); // the very file
      await store.deleteParts(id);
      const back = new Uint8Array(await new Response(await store.read(location)).arrayBuffer());
      expect(hashes(back)).toEqual(hashes(data));
      expect(await tmpFiles()).toEqual([]);
    });

    test("with wholeSha1 the background hash computes the SHA-1 too", async () => {
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n, part(n), true);
      const { claimed } = await complete(store, id);
      expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 0 }]);
      expect(claimed).toEqual(hashes(data));
    });

    test("a hash without SHA-1 is not used when the SHA-1 is asked for: the file is read again", async () => {
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      const { claimed } = await complete(store, id);
      expect(events).toEqual([{ sessionId: id, incremental: false, partsRead: 5 }]);
      expect(claimed).toEqual(hashes(data));
    });

    test("parts out of order and in parallel: the hashed prefix grows as the gaps fill", async () => {
      const id = sessionId();
      await put(store, id, 3);
      await put(store, id, 5);
      await Promise.all([1, 2, 4].map((n) => put(store, id, n)));
      await completesRight(store, id, { incremental: true, partsRead: 0 });
    });

    test("parts stored by another process are hashed at completion; a short part is not hashed ahead", async () => {
      const id = sessionId();
      for (const n of [1, 2]) await put(store, id, n);
      await put(store, id, 3, part(3).subarray(1)); // short: stored, not hashed
      expect(await store.listParts(id)).toEqual([
        { partNumber: 1, size: PART },
        { partNumber: 2, size: PART },
        { partNumber: 3, size: PART - 1 },
      ]);
      const stranger = await open(); // another process on the same disk stores parts 3, 4 and 5
      for (const n of [3, 4, 5]) await put(stranger, id, n);
      await completesRight(store, id, { incremental: true, partsRead: 3 });
    });

    test("a re-sent part restarts the hash from it and the right content comes out", async () => {
      const id = sessionId();
      await put(store, id, 1);
      await put(store, id, 2, new Uint8Array(randomBytes(PART)));
      await put(store, id, 3);
      await put(store, id, 2); // re-sent after it was hashed
      for (const n of [4, 5]) await put(store, id, n);
      await completesRight(store, id, { incremental: true, partsRead: 0 });
    });

    test("a part replaced behind this process's back: completion reads the whole file again", async () => {
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n, n === 2 ? new Uint8Array(PART) : part(n));
      await put(await open(), id, 2); // another replica fixes part 2
      await completesRight(store, id, { incremental: false, partsRead: 5 });
    });

    test("after a restart (a fresh store on the same disk) completion reads the whole file", async () => {
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      await completesRight(await open(), id, { incremental: false, partsRead: 5 });
    });

    test("discard keeps the parts: completing again works; deleteParts removes them", async () => {
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      const staged = await store.assembleParts(id, 5, { skipSha1: true });
      await staged.discard();
      expect(await store.listParts(id)).toHaveLength(5);
      const { stored } = await complete(store, id, { skipSha1: true });
      expect(stored).toEqual(hashes(data));
      expect(await readdir(join(root, "parts"))).toEqual([]);
    });

    test("at most maxSessionHashes at once: the least recently used goes, its session still completes", async () => {
      store = await open({ maxSessionHashes: 2 });
      const ids = [sessionId(), sessionId(), sessionId()];
      for (const id of ids) for (let n = 1; n <= 5; n++) await put(store, id, n);
      for (const id of ids)
        expect((await complete(store, id, { skipSha1: true })).stored).toEqual(hashes(data));
      expect(events.map((e) => [e.incremental, e.partsRead])).toEqual([
        [false, 5],
        [true, 0],
        [true, 0],
      ]);
    });

    test("an idle hash is dropped (its session may have died on another replica)", async () => {
      store = await open({ sessionHashIdleMs: 20 });
      const id = sessionId();
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      await Bun.sleep(150);
      await completesRight(store, id, { incremental: false, partsRead: 5 });
    });

    test("the same part twice at once: the second is refused (PartsBusyError), the first lands whole", async () => {
      const id = sessionId();
      const slow = heldBody(part(1).subarray(0, 1000), part(1).subarray(1000));
      const first = store.putPart(id, 1, slow.stream, opts(1));
      await Bun.sleep(50); // the first holds the part's lock now
      const err = await put(store, id, 1, new Uint8Array(PART)).catch((e) => e);
      expect(err).toBeInstanceOf(PartsBusyError);
      expect(String(err.message)).toContain("part 1 is being uploaded by another request");
      // Another process is refused too (the lock is the file's, not this process's).
      expect(await put(await open(), id, 1, new Uint8Array(PART)).catch((e) => e)).toBeInstanceOf(
        PartsBusyError,
      );
      slow.release();
      await first;
      for (let n = 2; n <= 5; n++) await put(store, id, n);
      await completesRight(store, id, { incremental: true, partsRead: 0 });
    });

    test("completion while a part is being written, and a part while completion holds the file: refused", async () => {
      const id = sessionId();
      for (let n = 1; n <= 4; n++) await put(store, id, n);
      const slow = heldBody(part(5).subarray(0, 10), part(5).subarray(10));
      const writing = store.putPart(id, 5, slow.stream, opts(5));
      await Bun.sleep(50);
      expect(await store.assembleParts(id, 5).catch((e) => e)).toBeInstanceOf(PartsBusyError);
      slow.release();
      await writing;
      const staged = await store.assembleParts(id, 5, { skipSha1: true });
      const err = await put(store, id, 2).catch((e) => e);
      expect(err).toBeInstanceOf(PartsBusyError);
      expect(String(err.message)).toContain("being completed");
      await staged.discard();
      await put(store, id, 2); // free again
      events = [];
      // The background hash went to the first completion: this one reads the file.
      await completesRight(store, id, { incremental: false, partsRead: 5 });
    });

    test("a failed first send leaves the part absent; a failed re-send leaves the earlier copy whole", async () => {
      const id = sessionId();
      const broken = heldBody(part(1).subarray(0, 1000), new Uint8Array());
      const sending = store.putPart(id, 1, broken.stream, opts(1));
      broken.release(true);
      expect(String(await sending.catch((e) => e))).toContain("connection reset");
      expect(await store.listParts(id)).toEqual([]);
      await put(store, id, 1);
      const again = heldBody(new Uint8Array(1000), new Uint8Array());
      const resending = store.putPart(id, 1, again.stream, opts(1));
      again.release(true);
      expect(String(await resending.catch((e) => e))).toContain("connection reset");
      expect(await store.listParts(id)).toEqual([{ partNumber: 1, size: PART }]);
      const back = new Uint8Array(
        await new Response((await store.readPart(id, 1)) as unknown as ReadableStream).arrayBuffer(),
      );
      expect(hashes(back)).toEqual(hashes(part(1)));
      for (let n = 2; n <= 5; n++) await put(store, id, n);
      await completesRight(store, id, { incremental: true, partsRead: 0 });
      expect(await readdir(join(root, "tmp"))).toEqual([]);
    });

    test("keepPartial (tus): what arrived before the failure stays as a shorter part, never less than before", async () => {
      const id = sessionId();
      const first = heldBody(part(1).subarray(0, 1000), new Uint8Array());
      const sending = store.putPart(id, 1, first.stream, { ...opts(1), keepPartial: true });
      first.release(true);
      expect(String(await sending.catch((e) => e))).toContain("connection reset");
      expect(await store.listParts(id)).toEqual([{ partNumber: 1, size: 1000 }]);
      // A re-send that brings less than the part holds keeps the part as it was.
      const less = heldBody(part(1).subarray(0, 500), new Uint8Array());
      const sendingLess = store.putPart(id, 1, less.stream, { ...opts(1), keepPartial: true });
      less.release(true);
      await sendingLess.catch(() => undefined);
      expect(await store.listParts(id)).toEqual([{ partNumber: 1, size: 1000 }]);
      const more = heldBody(part(1).subarray(0, 5000), new Uint8Array());
      const sendingMore = store.putPart(id, 1, more.stream, { ...opts(1), keepPartial: true });
      more.release(true);
      await sendingMore.catch(() => undefined);
      expect(await store.listParts(id)).toEqual([{ partNumber: 1, size: 5000 }]);
      const back = new Uint8Array(
        await new Response((await store.readPart(id, 1)) as unknown as ReadableStream).arrayBuffer(),
      );
      expect(hashes(back)).toEqual(hashes(part(1).subarray(0, 5000)));
    });

    test("bodies past the write-behind and background-sync steps: a 40 MiB staged body and a 6 MiB part", async () => {
      const big = new Uint8Array(randomBytes(40 << 20));
      const staged = await store.stage(body(big));
      expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual(hashes(big));
      const location = await staged.commit();
      expect(hashes(new Uint8Array(await new Response(await store.read(location)).arrayBuffer()))).toEqual(
        hashes(big),
      );
      const id = sessionId();
      const part = big.subarray(0, 6 << 20);
      await store.putPart(id, 1, body(part), { maxBytes: part.length, offset: 0, skipSha1: true });
      const assembled = await store.assembleParts(id, 1, { skipSha1: true });
      expect(assembled.sha256).toBe(hashes(part).sha256);
      const back = await assembled.commit();
      expect(hashes(new Uint8Array(await new Response(await store.read(back)).arrayBuffer()))).toEqual(
        hashes(part),
      );
      await store.deleteParts(id);
    });

    test("a torn record (a crash while it was written) does not count; sending the part replaces it", async () => {
      const id = sessionId();
      await mkdir(join(root, "parts", id), { recursive: true });
      const slots = new Uint8Array(3 * 64);
      slots.set(Buffer.from("262144 2621", "latin1"), 64); // part 2's slot, cut short
      await writeFile(join(root, "parts", id, "records"), slots);
      expect(await store.listParts(id)).toEqual([]);
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      expect((await store.listParts(id)).map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5]);
      await completesRight(store, id, { incremental: true, partsRead: 0 });
    });

    test("a part file of the older layout (the bytes themselves) does not count; sending the part again does", async () => {
      const id = sessionId();
      await mkdir(join(root, "parts", id), { recursive: true });
      await writeFile(join(root, "parts", id, "1"), part(1));
      expect(await store.listParts(id)).toEqual([]);
      for (let n = 1; n <= 5; n++) await put(store, id, n);
      await completesRight(store, id, { incremental: true, partsRead: 0 });
    });
  });
