// The listing of committed objects on both backends: exactly the committed blobs with their sizes, never
// staged-and-discarded bodies or a session's parts; a deleted blob is gone from it.
import { describe, expect, test } from "bun:test";
import { testBlobStores } from "./testing.ts";
import { type BlobStore, canList } from "./types.ts";

const body = (text: string) => new Blob([text]).stream();

async function listed(store: BlobStore) {
  if (!canList(store)) throw new Error("no listing");
  const out: [string, number][] = [];
  for await (const o of store.listObjects()) {
    expect(o.changedAt).toBeGreaterThan(Date.now() - 600_000);
    out.push([o.location, o.size]);
  }
  return out.sort();
}

for (const backend of testBlobStores()) {
  describe(`${backend.backend} store listing`, () => {
    test("lists the committed blobs only, with their sizes", async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        expect(await listed(store)).toEqual([]);
        const a = await (await store.stage(body("hello"))).commit();
        const b = await (await store.stage(body("another body"))).commit();
        await (await store.stage(body("discarded"))).discard();
        await store.putPart("listing-session-0001", 1, body("a part"), { maxBytes: 6, offset: 0 });
        expect(await listed(store)).toEqual(
          [
            [a, 5],
            [b, 12],
          ].sort() as [string, number][],
        );
        await store.delete(a);
        expect(await listed(store)).toEqual([[b, 12]]);
        await store.deleteParts("listing-session-0001");
      } finally {
        await opened.close();
      }
    }, 60_000);
  });
}
