// The local store's incremental assembly of multipart sessions: parts appended (and hashed) as they arrive,
// completion finishing it only when every appended part is still the one on disk, and reading all parts
// again otherwise. Which way completion went is observed through the onAssemble hook.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AssembleEvent, createLocalBlobStore, type LocalBlobStoreOptions } from "./local.ts";
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

describe("local store: incremental assembly", () => {
  let root: string;
  let events: AssembleEvent[];
  let store: BlobStore;
  const open = (opts: LocalBlobStoreOptions = {}) =>
    createLocalBlobStore(root, { onAssemble: (e) => events.push(e), ...opts });
  /** 4 full parts and a short last one. */
  const data = new Uint8Array(randomBytes(4 * PART + 1234));
  const part = (n: number) => data.subarray((n - 1) * PART, Math.min(n * PART, data.length));
  const put = (s: BlobStore, id: string, n: number, bytes = part(n), wholeSha1 = false) =>
    s.putPart(id, n, body(bytes), { maxBytes: part(n).length, skipSha1: true, wholeSha1 });
  const tmpFiles = () => readdir(join(root, "tmp"));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "filestore-assembly-"));
    events = [];
    store = await open();
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  /** Assembles, commits, reads back: the hashes of what was stored, and the hashes the staged blob claimed. */
  async function complete(s: BlobStore, id: string, opts?: { skipSha1?: boolean }) {
    const staged = await s.assembleParts(id, 5, opts);
    const claimed = { sha256: staged.sha256, sha1: staged.sha1, size: staged.size };
    const location = await staged.commit();
    const back = new Uint8Array(await new Response(await s.read(location)).arrayBuffer());
    await s.deleteParts(id);
    return { claimed, stored: hashes(back) };
  }

  /** Completes with skipSha1: the right content, assembled the way `how` says, no temp left. */
  async function completesRight(s: BlobStore, id: string, how: Omit<AssembleEvent, "sessionId">) {
    const { claimed, stored } = await complete(s, id, { skipSha1: true });
    expect(events).toEqual([{ sessionId: id, ...how }]);
    expect([claimed.sha256, stored]).toEqual([hashes(data).sha256, hashes(data)]);
    expect(await tmpFiles()).toEqual([]);
  }

  test("parts in order: completion finishes the assembly without reading any part again", async () => {
    const id = sessionId();
    for (let n = 1; n <= 5; n++) await put(store, id, n);
    expect((await tmpFiles()).filter((f) => f.startsWith("assembly-"))).toHaveLength(1);
    const { claimed, stored } = await complete(store, id, { skipSha1: true });
    expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 0 }]);
    expect(stored).toEqual(hashes(data));
    expect(claimed).toEqual({ ...hashes(data), sha1: "" });
    expect(await tmpFiles()).toEqual([]);
  });

  test("with wholeSha1 the assembly computes the SHA-1 too", async () => {
    const id = sessionId();
    for (let n = 1; n <= 5; n++) await put(store, id, n, part(n), true);
    const { claimed } = await complete(store, id);
    expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 0 }]);
    expect(claimed).toEqual(hashes(data));
  });

  test("an assembly without SHA-1 is not used when the SHA-1 is asked for: all parts are read", async () => {
    const id = sessionId();
    for (let n = 1; n <= 5; n++) await put(store, id, n);
    const { claimed } = await complete(store, id);
    expect(events).toEqual([{ sessionId: id, incremental: false, partsRead: 5 }]);
    expect(claimed).toEqual(hashes(data));
    expect(await tmpFiles()).toEqual([]);
  });

  test("parts out of order and in parallel: the prefix grows as the gaps fill", async () => {
    const id = sessionId();
    await put(store, id, 3);
    await put(store, id, 5);
    await Promise.all([1, 2, 4].map((n) => put(store, id, n)));
    const { claimed, stored } = await complete(store, id, { skipSha1: true });
    expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 0 }]);
    expect([claimed.sha256, stored]).toEqual([hashes(data).sha256, hashes(data)]);
  });

  test("a part not received yet is read at completion; a short part is not appended", async () => {
    const id = sessionId();
    for (const n of [1, 2]) await put(store, id, n);
    await put(store, id, 3, part(3).subarray(1)); // short: stored, but not appended
    const stranger = await open(); // another process on the same disk stores part 3, 4 and 5
    for (const n of [3, 4, 5]) await put(stranger, id, n);
    const { stored } = await complete(store, id, { skipSha1: true });
    expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 3 }]);
    expect(stored).toEqual(hashes(data));
  });

  test("a re-sent part restarts the assembly from it and the right content comes out", async () => {
    const id = sessionId();
    const wrong = new Uint8Array(randomBytes(PART));
    await put(store, id, 1);
    await put(store, id, 2, wrong);
    await put(store, id, 3);
    await put(store, id, 2); // re-sent after it was appended
    for (const n of [4, 5]) await put(store, id, n);
    await completesRight(store, id, { incremental: true, partsRead: 0 });
  });

  test("a part replaced behind this process's back: completion reads all parts again", async () => {
    const id = sessionId();
    for (let n = 1; n <= 5; n++) await put(store, id, n, n === 2 ? new Uint8Array(PART) : part(n));
    await put(await open(), id, 2); // another replica fixes part 2
    await completesRight(store, id, { incremental: false, partsRead: 5 });
  });

  test("after a restart (a fresh store on the same disk) completion reads all parts", async () => {
    const id = sessionId();
    for (let n = 1; n <= 5; n++) await put(store, id, n);
    const restarted = await open();
    const { claimed, stored } = await complete(restarted, id, { skipSha1: true });
    expect(events).toEqual([{ sessionId: id, incremental: false, partsRead: 5 }]);
    expect([claimed.sha256, stored]).toEqual([hashes(data).sha256, hashes(data)]);
    await store.deleteParts(id); // the first process's assembly goes with its session
    expect(await tmpFiles()).toEqual([]);
  });

  test("a discarded assembly (a wrong whole) leaves nothing; deleteParts removes an unfinished one", async () => {
    const id = sessionId();
    for (let n = 1; n <= 5; n++) await put(store, id, n);
    const staged = await store.assembleParts(id, 5, { skipSha1: true });
    expect(events).toEqual([{ sessionId: id, incremental: true, partsRead: 0 }]);
    await staged.discard();
    expect(await tmpFiles()).toEqual([]);
    const other = sessionId();
    for (const n of [1, 2]) await put(store, other, n);
    expect(await tmpFiles()).toHaveLength(1);
    await store.deleteParts(other);
    expect(await tmpFiles()).toEqual([]);
    await store.deleteParts(id);
  });

  test("at most maxAssemblies at once: the least recently used goes, its session still completes", async () => {
    store = await open({ maxAssemblies: 2 });
    const ids = [sessionId(), sessionId(), sessionId()];
    for (const id of ids) for (let n = 1; n <= 5; n++) await put(store, id, n);
    expect(await tmpFiles()).toHaveLength(2);
    for (const id of ids)
      expect((await complete(store, id, { skipSha1: true })).stored).toEqual(hashes(data));
    expect(events.map((e) => [e.incremental, e.partsRead])).toEqual([
      [false, 5],
      [true, 0],
      [true, 0],
    ]);
    expect(await tmpFiles()).toEqual([]);
  });

  test("an idle assembly is dropped (its session may have died on another replica)", async () => {
    store = await open({ assemblyIdleMs: 20 });
    const id = sessionId();
    for (const n of [1, 2]) await put(store, id, n);
    expect(await tmpFiles()).toHaveLength(1);
    for (let i = 0; i < 100 && (await tmpFiles()).length > 0; i++) await Bun.sleep(10);
    expect(await tmpFiles()).toEqual([]);
    await store.deleteParts(id);
  });
});
