// Each backend claims exactly the capabilities it has (the guards callers branch on), and close() stops
// the store's timers.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBlobStore } from "./local/index.ts";
import { type OpenedBlobStore, testBlobStores } from "./testing.ts";
import { canList, canPing, canPresign, canRelocate, hasFileReads, hasFreeSpace } from "./types.ts";

const claims = (opened: OpenedBlobStore) => {
  const s = opened.store;
  return {
    fileReads: hasFileReads(s),
    freeSpace: hasFreeSpace(s),
    presign: canPresign(s),
    relocate: canRelocate(s),
    ping: canPing(s),
    list: canList(s),
  };
};

const expected = {
  local: { fileReads: true, freeSpace: true, presign: false, relocate: false, ping: false, list: true },
  s3: { fileReads: false, freeSpace: false, presign: true, relocate: true, ping: true, list: true },
};

for (const backend of testBlobStores()) {
  describe(`${backend.backend} store capabilities`, () => {
    const opening = backend.open();
    afterAll(async () => (await opening).close());

    test("has its backend's capabilities and claims no other", async () => {
      expect(claims(await opening)).toEqual(expected[backend.backend]);
    });
  });
}

test("the S3 store is among the stores tested when TEST_S3_ENDPOINT is set", () => {
  const backends = testBlobStores().map((b) => b.backend);
  expect(backends).toEqual(process.env.TEST_S3_ENDPOINT ? ["local", "s3"] : ["local"]);
});

test("close() stops every timer the local store started, and may be called again", async () => {
  const root = await mkdtemp(join(tmpdir(), "filestore-close-"));
  const started = new Set<unknown>();
  const { setInterval: realSet, clearInterval: realClear } = globalThis;
  globalThis.setInterval = ((...args: Parameters<typeof realSet>) => {
    const t = realSet(...args);
    started.add(t);
    return t;
  }) as typeof realSet;
  let store: Awaited<ReturnType<typeof createLocalBlobStore>>;
  try {
    store = await createLocalBlobStore(root);
  } finally {
    globalThis.setInterval = realSet;
  }
  expect(started.size).toBeGreaterThan(0);
  const cleared = new Set<unknown>();
  globalThis.clearInterval = ((t: Parameters<typeof realClear>[0]) => {
    cleared.add(t);
    realClear(t);
  }) as typeof realClear;
  try {
    store.close();
    store.close();
  } finally {
    globalThis.clearInterval = realClear;
    await rm(root, { recursive: true, force: true });
  }
  expect([...started].every((t) => cleared.has(t))).toBe(true);
});
