// The sweep's retries, with a fake meta and store and a pinned clock: a failure of the store (or meta) is
// tried again with backoff while the worker runs, with the content's current location; a bounded number of
// times (then a restart tries again); content that cannot be read as an image is skipped, never retried.
import { expect, test } from "bun:test";
import sharp from "sharp";
import type { BlobStore, StoreFor } from "../lib/blobstore/types.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { type RetryPolicy, thumbnailSweep } from "./thumbnail-sweep.ts";
import type { ThumbnailDeps } from "./thumbnails.ts";

interface Content {
  sha256: string;
  name: string;
  location: string;
  bytes: Uint8Array;
  createdAt: bigint;
}

/** Meta's derived records and candidates over `contents`, in memory (candidates: no "thumb-256" yet). */
function fakeWorld() {
  const contents = new Map<string, Content>();
  const derived = new Map<string, string>();
  const unreadable = new Set<string>();
  const counts = { stages: 0, reads: 0 };
  let stageFails = false;
  const meta = {
    async listDerivedCandidates(req: {
      kind: string;
      afterCreatedAt: bigint;
      afterSha256: string;
      limit: number;
    }) {
      const candidates = [...contents.values()]
        .filter((c) => !derived.has(`${c.sha256}/${req.kind}`))
        .filter(
          (c) =>
            c.createdAt > req.afterCreatedAt ||
            (c.createdAt === req.afterCreatedAt && c.sha256 > req.afterSha256),
        )
        .sort((a, b) => Number(a.createdAt - b.createdAt) || a.sha256.localeCompare(b.sha256))
        .slice(0, req.limit)
        .map((c) => ({ ...c, size: BigInt(c.bytes.length), backend: "local" }));
      return { candidates };
    },
    async putDerived(req: { record: { sha256: string; kind: string; state: string } }) {
      const key = `${req.record.sha256}/${req.record.kind}`;
      if (derived.has(key)) return { recorded: false };
      derived.set(key, req.record.state);
      return { recorded: true };
    },
  } as unknown as MetaClient;
  const store = {
    backend: "local",
    async read(location: string) {
      counts.reads++;
      if (unreadable.has(location)) throw new Error("no such object (moved)");
      const c = [...contents.values()].find((x) => x.location === location);
      if (!c) throw new Error("no such object");
      return new Blob([new Uint8Array(c.bytes)]).stream();
    },
    async stage() {
      counts.stages++;
      if (stageFails) throw new Error("disk unavailable");
      return { commit: async () => `thumb/${crypto.randomUUID()}`, discard: async () => {} };
    },
    async delete() {},
  } as unknown as BlobStore;
  const deps: ThumbnailDeps = {
    meta,
    storeFor: (() => store) as StoreFor,
    landing: store,
    maxInputBytes: 1 << 22,
    maxInputPixels: 1 << 24,
    maxVideoBytes: 1 << 22,
    timeoutSeconds: 20,
    ffmpeg: undefined,
  };
  return {
    deps,
    contents,
    derived,
    unreadable,
    counts,
    failStages: (on: boolean) => {
      stageFails = on;
    },
  };
}

const png = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: "#369" } })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b));
// Pauses 500, 1000, 2000 ms (equal jitter pinned to its lower half), 3 retries.
const RETRY: RetryPolicy = {
  attempts: 3,
  backoff: { baseMs: 1000, maxMs: 10_000, jitter: "equal", random: () => 0 },
};

test("a store failure is retried with backoff at the content's current location; corrupt content stays skipped", async () => {
  const w = fakeWorld();
  const clock = { now: 1_000_000 };
  const sweep = thumbnailSweep(w.deps, { concurrency: 1, now: () => clock.now, retry: RETRY });
  w.contents.set("a", {
    sha256: "a".repeat(64),
    name: "a.png",
    location: "old/a",
    bytes: await png(),
    createdAt: 1n,
  });
  w.contents.set("b", {
    sha256: "b".repeat(64),
    name: "broken.jpg",
    location: "loc/b",
    bytes: crypto.getRandomValues(new Uint8Array(3000)),
    createdAt: 2n,
  });
  // a's bytes moved (say, by the transfer worker) and the old location is gone.
  w.unreadable.add("old/a");
  expect(await sweep.pass()).toEqual({ made: 0, skipped: 1, failed: 1 });
  const aSha = "a".repeat(64);
  (w.contents.get("a") as Content).location = "loc/a";
  // Not due yet: nothing is tried, the corrupt content least of all (it is recorded as skipped).
  clock.now += 100;
  const reads = w.counts.reads;
  expect(await sweep.pass()).toEqual({ made: 0, skipped: 0, failed: 0 });
  expect(w.counts.reads).toBe(reads);
  expect(w.derived.get(`${"b".repeat(64)}/thumb-256`)).toBe("skipped");
  // Due: a is read where it is now, and made.
  clock.now += 500;
  expect(await sweep.pass()).toEqual({ made: 1, skipped: 0, failed: 0 });
  expect([w.derived.get(`${aSha}/thumb-256`), w.derived.get(`${aSha}/thumb-1024`)]).toEqual([
    "ready",
    "ready",
  ]);
  clock.now += 60_000;
  expect(await sweep.pass()).toEqual({ made: 0, skipped: 0, failed: 0 });
});

test("retries are bounded: after the last one the content waits for a restart; a failure half-way is found again", async () => {
  const w = fakeWorld();
  const clock = { now: 1_000_000 };
  const sweep = thumbnailSweep(w.deps, { concurrency: 1, now: () => clock.now, retry: RETRY });
  const cSha = "c".repeat(64);
  w.contents.set("c", { sha256: cSha, name: "c.png", location: "loc/c", bytes: await png(), createdAt: 1n });
  w.failStages(true);
  expect(await sweep.pass()).toEqual({ made: 0, skipped: 0, failed: 1 });
  // Before each retry is due nothing happens; when due, one more try: 500, 1000 and 2000 ms later.
  for (const wait of [500, 1000, 2000]) {
    clock.now += wait - 1;
    expect(await sweep.pass()).toEqual({ made: 0, skipped: 0, failed: 0 });
    clock.now += 1;
    expect(await sweep.pass()).toEqual({ made: 0, skipped: 0, failed: 1 });
  }
  // Exhausted: the store is back, but this worker does not try again however long it waits.
  w.failStages(false);
  clock.now += 3_600_000;
  const stages = w.counts.stages;
  expect(await sweep.pass()).toEqual({ made: 0, skipped: 0, failed: 0 });
  expect(w.counts.stages).toBe(stages);
  // A restart (a new sweep) starts from the beginning and makes it.
  const restarted = thumbnailSweep(w.deps, { concurrency: 1, now: () => clock.now, retry: RETRY });
  expect(await restarted.pass()).toEqual({ made: 1, skipped: 0, failed: 0 });

  // The larger size is stored first: a failure after it leaves the content a candidate (no thumb-256 yet).
  const dSha = "d".repeat(64);
  w.contents.set("d", { sha256: dSha, name: "d.png", location: "loc/d", bytes: await png(), createdAt: 2n });
  const putDerived = w.deps.meta.putDerived.bind(w.deps.meta);
  let puts = 0;
  w.deps.meta.putDerived = (async (req: Parameters<MetaClient["putDerived"]>[0]) => {
    if (++puts === 2) throw new Error("meta unavailable");
    return putDerived(req);
  }) as MetaClient["putDerived"];
  expect(await restarted.pass()).toEqual({ made: 0, skipped: 0, failed: 1 });
  expect([w.derived.get(`${dSha}/thumb-1024`), w.derived.has(`${dSha}/thumb-256`)]).toEqual(["ready", false]);
  clock.now += 500;
  expect(await restarted.pass()).toEqual({ made: 1, skipped: 0, failed: 0 });
  expect(w.derived.get(`${dSha}/thumb-256`)).toBe("ready");
});
