// One suite, run against every backend (local disk always; S3 on Ceph RGW when TEST_S3_* are set — CI
// insists). "Nothing left behind" is checked by comparing a full listing of the store (files, or keys and
// unfinished multipart uploads) before and after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { freeingChunks } from "./common.ts";
import { INLINE_DIGEST_BYTES } from "./digest.ts";
import {
  BlobHashMismatchError,
  BlobNotFoundError,
  BlobSizeMismatchError,
  BlobTooLargeError,
  blobStoreConfigFromEnv,
  InvalidArgumentError,
  InvalidLocationError,
  InvalidPartError,
  MissingPartError,
  RangeNotSatisfiableError,
  SessionSealedError,
  storageConfigFromEnv,
} from "./index.ts";
import { type OpenedBlobStore, testBlobStores } from "./testing.ts";
import { type BlobStore, hasFileReads } from "./types.ts";

const MiB = 1024 * 1024;
/** S3 parts of 5 MiB (S3's minimum), so that 5 MiB + 1 byte already takes a multipart upload. */
const S3_PART_SIZE = 5 * MiB;
const SLOW = 120_000;

function hashes(bytes: Uint8Array) {
  return {
    sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"),
    sha1: new Bun.CryptoHasher("sha1").update(bytes).digest("hex"),
    size: bytes.byteLength,
  };
}

/** A pull-based body in chunks of `chunkSize`; `pulled` tells how far a consumer read. */
function bodyOf(bytes: Uint8Array, chunkSize = 64 * 1024) {
  let offset = 0;
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.byteLength) return controller.close();
        const chunk = bytes.slice(offset, offset + chunkSize);
        offset += chunk.byteLength;
        state.pulled = offset;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

/** `count` random chunks of `chunkSize` bytes, generated on the fly; `expected` hashes what was produced. */
function generated(count: number, chunkSize = MiB) {
  const sha256 = new Bun.CryptoHasher("sha256");
  const sha1 = new Bun.CryptoHasher("sha1");
  async function* gen() {
    for (let i = 0; i < count; i++) {
      const chunk = randomBytes(chunkSize);
      sha256.update(chunk);
      sha1.update(chunk);
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
  return {
    body: gen(),
    expected: () => ({ sha256: sha256.digest("hex"), sha1: sha1.digest("hex"), size: count * chunkSize }),
  };
}

/** A body that yields `bytes` bytes, then fails like a client that disconnects. */
function failingBody(bytes: number, error = new Error("client went away")) {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.error(error);
      const chunk = randomBytes(Math.min(MiB, bytes - sent));
      sent += chunk.byteLength;
      controller.enqueue(new Uint8Array(chunk));
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function hashStream(stream: ReadableStream<Uint8Array>) {
  const sha256 = new Bun.CryptoHasher("sha256");
  const sha1 = new Bun.CryptoHasher("sha1");
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    sha256.update(chunk);
    sha1.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: sha256.digest("hex"), sha1: sha1.digest("hex"), size };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

const sessionId = () => `s_${randomBytes(12).toString("hex")}`;

for (const backend of testBlobStores({ s3PartSize: S3_PART_SIZE })) {
  describe(`blob store: ${backend.backend}`, () => {
    let opened: OpenedBlobStore;
    let store: BlobStore;
    beforeAll(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    afterAll(async () => {
      await opened?.close();
    });

    /** Runs `fn` and checks the store holds exactly what it held before. */
    async function leavesNothing(fn: () => Promise<void>) {
      const before = await opened.snapshot();
      await fn();
      expect(await opened.snapshot()).toEqual(before);
    }

    test("backend name", () => {
      expect(store.backend).toBe(backend.backend);
    });

    for (const size of [0, 1, 5 * MiB + 1]) {
      test(
        `stage, commit and read back ${size} bytes`,
        async () => {
          const bytes = new Uint8Array(randomBytes(size));
          const staged = await store.stage(bodyOf(bytes, 256 * 1024).stream);
          expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual(hashes(bytes));
          const location = await staged.commit();
          if (backend.backend === "local")
            expect(location).toMatch(
              new RegExp(
                `^blobs/${staged.sha256.slice(0, 2)}/${staged.sha256.slice(2, 4)}/${staged.sha256}\\.[0-9a-f]{12}$`,
              ),
            );
          else expect(location).toMatch(/^blobs\/[0-9a-f-]{36}$/);
          expect(await staged.commit()).toBe(location); // idempotent
          expect(await store.stat(location)).toEqual({ size });
          expect(await readAll(await store.read(location))).toEqual(bytes);
          await store.delete(location);
        },
        SLOW,
      );
    }

    test(
      "announced sizes around the limit for hashing on the writer's thread: the same hashes, with and without SHA-1",
      async () => {
        for (const size of [0, 3, INLINE_DIGEST_BYTES, INLINE_DIGEST_BYTES + 1]) {
          const bytes = new Uint8Array(randomBytes(size));
          const want = hashes(bytes);
          for (const skipSha1 of [false, true]) {
            const staged = await store.stage(bodyOf(bytes, 7000).stream, { expectedSize: size, skipSha1 });
            expect(staged.sha256).toBe(want.sha256);
            expect(staged.crc32).toBe(crc32(bytes)); // on the writer's thread or by a digest lane
            // Without SHA-1 asked for, a store may still know it (S3 computes both): never a wrong one.
            if (!skipSha1 || staged.sha1) expect(staged.sha1).toBe(want.sha1);
            await staged.discard();
          }
        }
      },
      SLOW,
    );

    test(
      "a 64 MiB generated stream: hashes while writing, reads back the same",
      async () => {
        const { body, expected } = generated(64);
        const staged = await store.stage(body);
        const want = expected();
        expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual(want);
        const location = await staged.commit();
        expect(await store.stat(location)).toEqual({ size: 64 * MiB });
        expect(await hashStream(await store.read(location))).toEqual(want);
        await store.delete(location);
      },
      SLOW,
    );

    test(
      "a body whose chunks are freed once the next one is asked for (freeingChunks) is stored intact",
      async () => {
        // The data plane frees request chunks then: a store that kept one longer would store zeros.
        const bytes = new Uint8Array(randomBytes(5 * MiB + 1000));
        const staged = await store.stage(freeingChunks(bodyOf(bytes).stream));
        expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual(hashes(bytes));
        expect(staged.crc32).toBe(crc32(bytes));
        const location = await staged.commit();
        expect(await hashStream(await store.read(location))).toEqual(hashes(bytes));
        await store.delete(location);
        await leavesNothing(async () => {
          const id = sessionId();
          const info = await store.putPart(id, 1, freeingChunks(bodyOf(bytes).stream), {
            maxBytes: 6 * MiB,
            offset: 0,
            expectedSha256: hashes(bytes).sha256,
          });
          expect(info).toEqual(hashes(bytes));
          // A re-send (through tmp/ on local disk) too.
          await store.putPart(id, 1, freeingChunks(bodyOf(bytes).stream), { maxBytes: 6 * MiB, offset: 0 });
          const whole = await store.assembleParts(id, 1);
          expect({ sha256: whole.sha256, sha1: whole.sha1, size: whole.size }).toEqual(hashes(bytes));
          expect(whole.crc32).toBe(crc32(bytes)); // summed with the SHA-256, for folder ZIPs
          await whole.discard();
          await store.deleteParts(id);
        });
      },
      SLOW,
    );

    test("an async iterable body works like a stream", async () => {
      const a = new TextEncoder().encode("hello, ");
      const b = new TextEncoder().encode("world");
      async function* parts() {
        yield a;
        yield new Uint8Array(0);
        yield b;
      }
      const staged = await store.stage(parts());
      expect(staged.sha256).toBe(hashes(new TextEncoder().encode("hello, world")).sha256);
      const location = await staged.commit();
      expect(new TextDecoder().decode(await readAll(await store.read(location)))).toBe("hello, world");
      await store.delete(location);
    });

    test("ranges: first byte, last byte, middle, whole, end past the end, start past the end", async () => {
      const bytes = new Uint8Array(randomBytes(1000));
      const location = await (await store.stage(bodyOf(bytes).stream)).commit();
      const range = async (start: number, end: number) => readAll(await store.read(location, { start, end }));
      expect(await range(0, 0)).toEqual(bytes.slice(0, 1));
      expect(await range(999, 999)).toEqual(bytes.slice(999));
      expect(await range(100, 199)).toEqual(bytes.slice(100, 200));
      expect(await range(0, 999)).toEqual(bytes);
      expect(await range(990, 5000)).toEqual(bytes.slice(990)); // clamped, like HTTP
      const err = await rejection(store.read(location, { start: 1000, end: 1000 }));
      expect(err).toBeInstanceOf(RangeNotSatisfiableError);
      expect((err as RangeNotSatisfiableError).size).toBe(1000);
      for (const bad of [
        { start: 5, end: 4 },
        { start: -1, end: 3 },
        { start: 1.5, end: 3 },
        { start: Number.NaN, end: 3 },
      ])
        expect(await rejection(store.read(location, bad))).toBeInstanceOf(InvalidArgumentError);
      await store.delete(location);
    });

    test("a range of an empty blob is not satisfiable", async () => {
      const location = await (await store.stage(bodyOf(new Uint8Array(0)).stream)).commit();
      expect(await readAll(await store.read(location))).toEqual(new Uint8Array(0));
      expect(await rejection(store.read(location, { start: 0, end: 0 }))).toBeInstanceOf(
        RangeNotSatisfiableError,
      );
      await store.delete(location);
    });

    test("the same content committed twice", async () => {
      const bytes = new Uint8Array(randomBytes(4096));
      const before = await opened.snapshot();
      const one = await (await store.stage(bodyOf(bytes).stream)).commit();
      const two = await (await store.stage(bodyOf(bytes).stream)).commit();
      // Every stored copy has its own location (deleting one never touches another); the database dedupes.
      expect(two).not.toBe(one);
      expect(await opened.snapshot()).toEqual(expect.arrayContaining([...before, one, two]));
      expect(await readAll(await store.read(two))).toEqual(bytes);
      await store.delete(one);
      await store.delete(two);
      expect(await opened.snapshot()).toEqual(before);
    });

    for (const [label, size] of [
      ["a small body", 20],
      ["a multi-part body", 13 * MiB],
    ] as const) {
      test(
        `maxBytes exceeded (${label}): BlobTooLargeError, the body is not read to its end, nothing left`,
        async () => {
          await leavesNothing(async () => {
            const { stream, state } = bodyOf(new Uint8Array(randomBytes(size)), size > MiB ? MiB : 1);
            const maxBytes = size > MiB ? 11 * MiB : 10;
            const err = await rejection(store.stage(stream, { maxBytes }));
            expect(err).toBeInstanceOf(BlobTooLargeError);
            expect((err as BlobTooLargeError).maxBytes).toBe(maxBytes);
            expect(state.pulled).toBeLessThan(size);
          });
        },
        SLOW,
      );
    }

    test("exactly maxBytes is accepted", async () => {
      const staged = await store.stage(bodyOf(new Uint8Array(10)).stream, { maxBytes: 10, expectedSize: 10 });
      expect(staged.size).toBe(10);
      await staged.discard();
    });

    test(
      "expectedSize mismatch: BlobSizeMismatchError, nothing left (shorter, longer, multi-part)",
      async () => {
        await leavesNothing(async () => {
          const short = await rejection(
            store.stage(bodyOf(new Uint8Array(50)).stream, { expectedSize: 100 }),
          );
          expect(short).toBeInstanceOf(BlobSizeMismatchError);
          expect(short).toMatchObject({ expected: 100, actual: 50 });
          const long = await rejection(store.stage(bodyOf(new Uint8Array(100)).stream, { expectedSize: 50 }));
          expect(long).toBeInstanceOf(BlobSizeMismatchError);
          const big = generated(12);
          const multi = await rejection(store.stage(big.body, { expectedSize: 12 * MiB + 1 }));
          expect(multi).toBeInstanceOf(BlobSizeMismatchError);
        });
      },
      SLOW,
    );

    test(
      "expectedSha256 mismatch: BlobHashMismatchError, nothing left; a matching one (any case) passes",
      async () => {
        const bytes = new Uint8Array(randomBytes(6 * MiB));
        const wrong = "0".repeat(64);
        await leavesNothing(async () => {
          const err = await rejection(store.stage(bodyOf(bytes, MiB).stream, { expectedSha256: wrong }));
          expect(err).toBeInstanceOf(BlobHashMismatchError);
          expect(err).toMatchObject({ expected: wrong, actual: hashes(bytes).sha256 });
        });
        const staged = await store.stage(bodyOf(bytes, MiB).stream, {
          expectedSha256: hashes(bytes).sha256.toUpperCase(),
          expectedSize: bytes.byteLength,
        });
        expect(staged.sha256).toBe(hashes(bytes).sha256);
        await staged.discard();
        expect(await rejection(store.stage(bodyOf(bytes).stream, { expectedSha256: "abc" }))).toBeInstanceOf(
          InvalidArgumentError,
        );
      },
      SLOW,
    );

    for (const bytes of [100, 12 * MiB]) {
      test(
        `a body that fails after ${bytes} bytes (client disconnect): rejected with its error, nothing left`,
        async () => {
          await leavesNothing(async () => {
            const error = new Error("client went away");
            expect(await rejection(store.stage(failingBody(bytes, error)))).toBe(error);
            async function* gen() {
              yield new Uint8Array(randomBytes(bytes));
              throw error;
            }
            expect(await rejection(store.stage(gen()))).toBe(error);
          });
        },
        SLOW,
      );
    }

    test("a body of something else than bytes is refused, nothing left", async () => {
      await leavesNothing(async () => {
        async function* strings() {
          yield "text" as unknown as Uint8Array;
        }
        expect(await rejection(store.stage(strings()))).toBeInstanceOf(TypeError);
      });
    });

    test("discard is idempotent, leaves nothing, and commit after it fails", async () => {
      await leavesNothing(async () => {
        const staged = await store.stage(bodyOf(new Uint8Array(randomBytes(1234))).stream);
        await staged.discard();
        await staged.discard();
        expect(await rejection(staged.commit())).toBeInstanceOf(Error);
      });
    });

    test("discard after commit keeps the blob", async () => {
      const staged = await store.stage(bodyOf(new Uint8Array(randomBytes(10))).stream);
      const location = await staged.commit();
      await staged.discard();
      expect(await store.stat(location)).toEqual({ size: 10 });
      await store.delete(location);
    });

    test("delete is idempotent; a deleted blob is not found", async () => {
      const location = await (await store.stage(bodyOf(new Uint8Array(randomBytes(10))).stream)).commit();
      await store.delete(location);
      await store.delete(location);
      expect(await store.stat(location)).toBeUndefined();
      expect(await rejection(store.read(location))).toBeInstanceOf(BlobNotFoundError);
    });

    test("openBlob (local disk): reads at positions into the caller's buffer; a gone blob is not found", async () => {
      if (!hasFileReads(store)) {
        expect(backend.backend).toBe("s3"); // streams only (read)
        return;
      }
      const bytes = new Uint8Array(randomBytes(3 * 1024 + 5));
      const location = await (await store.stage(bodyOf(bytes).stream)).commit();
      const blob = await store.openBlob(location);
      const into = new Uint8Array(1024);
      const read: number[] = [];
      for (let at = 0; ; ) {
        const n = await blob.read(into, at);
        if (n === 0) break;
        read.push(n);
        expect(into.subarray(0, n)).toEqual(bytes.subarray(at, at + n));
        at += n;
      }
      expect(read).toEqual([1024, 1024, 1024, 5]);
      expect(await blob.read(into.subarray(0, 10), 1000)).toBe(10);
      expect(into.subarray(0, 10)).toEqual(bytes.subarray(1000, 1010));
      await blob.close();
      await store.delete(location);
      expect(await rejection(store.openBlob(location))).toBeInstanceOf(BlobNotFoundError);
    });

    test("invalid locations are rejected by read, stat and delete", async () => {
      const sha = "ab".repeat(32);
      const invalid = [
        "",
        "../x",
        "/etc/passwd",
        "blobs/../../etc/passwd",
        "blobs/ab/ab/../../../../etc/passwd",
        `/blobs/ab/ab/${sha}`,
        `blobs/ab/ab/${sha}\0`,
        `blobs/ab/ab/${sha}.0123456789ab\0`,
        `blobs/ab/ab/${sha}.0123456789AB`,
        `blobs/ab/ab/${sha}.0123456789ab/../x`,
        `blobs/ab/ab/${sha.slice(0, 63)}\0`,
        `blobs/ab/cd/${sha}`, // the directories must be the hash's own prefix
        `blobs/AB/AB/${sha.toUpperCase()}`,
        "blobs/x",
        "parts/abcdefghijklmnop/1",
        "tmp/0b5f6a1e-3c41-4d8e-9a0c-2f1e5b7d9c3a",
        backend.backend === "local" ? "blobs/0b5f6a1e-3c41-4d8e-9a0c-2f1e5b7d9c3a" : `blobs/ab/ab/${sha}`,
      ];
      for (const location of invalid) {
        expect(await rejection(store.read(location))).toBeInstanceOf(InvalidLocationError);
        expect(await rejection(store.stat(location))).toBeInstanceOf(InvalidLocationError);
        expect(await rejection(store.delete(location))).toBeInstanceOf(InvalidLocationError);
      }
      // Well-formed but absent.
      const absent =
        backend.backend === "local"
          ? `blobs/ab/ab/${sha}.0123456789ab`
          : "blobs/0b5f6a1e-3c41-4d8e-9a0c-2f1e5b7d9c3a";
      expect(await store.stat(absent)).toBeUndefined();
      expect(await rejection(store.read(absent))).toBeInstanceOf(BlobNotFoundError);
      await store.delete(absent);
    });

    test(
      "parts: out of order, re-sent (replaced), listed, assembled into the right whole, deleted",
      async () => {
        await leavesNothing(async () => {
          const id = sessionId();
          const part1 = new Uint8Array(randomBytes(5 * MiB));
          const part2a = new Uint8Array(randomBytes(5 * MiB));
          const part2b = new Uint8Array(randomBytes(5 * MiB));
          const part3 = new Uint8Array(randomBytes(1000));
          expect(await store.listParts(id)).toEqual([]);
          const info3 = await store.putPart(id, 3, bodyOf(part3).stream, {
            maxBytes: 5 * MiB,
            offset: 10 * MiB,
            expectedSha256: hashes(part3).sha256,
          });
          expect(info3).toEqual(hashes(part3));
          await store.putPart(id, 1, bodyOf(part1, MiB).stream, { maxBytes: 5 * MiB, offset: 0 });
          await store.putPart(id, 2, bodyOf(part2a, MiB).stream, { maxBytes: 5 * MiB, offset: 5 * MiB });
          // Re-sending part 2 (other bytes, say a retry after corruption) replaces it.
          const info2 = await store.putPart(id, 2, bodyOf(part2b, MiB).stream, {
            maxBytes: 5 * MiB,
            offset: 5 * MiB,
            expectedSha256: hashes(part2b).sha256,
          });
          expect(info2).toEqual(hashes(part2b));
          expect(await store.listParts(id)).toEqual([
            { partNumber: 1, size: 5 * MiB },
            { partNumber: 2, size: 5 * MiB },
            { partNumber: 3, size: 1000 },
          ]);
          const whole = new Uint8Array(10 * MiB + 1000);
          whole.set(part1, 0);
          whole.set(part2b, 5 * MiB);
          whole.set(part3, 10 * MiB);
          const staged = await store.assembleParts(id, 3);
          expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual(hashes(whole));
          const location = await staged.commit();
          expect(await hashStream(await store.read(location))).toEqual(hashes(whole));
          // Completing again (a retry after a failure past commit) gives the same whole.
          const again = await store.assembleParts(id, 3);
          expect(again.sha256).toBe(hashes(whole).sha256);
          await again.discard();
          if (backend.backend === "local") {
            // The session's file is a blob now: no part may change it.
            expect(
              await rejection(store.putPart(id, 1, bodyOf(part1).stream, { maxBytes: 5 * MiB, offset: 0 })),
            ).toBeInstanceOf(SessionSealedError);
            expect(await hashStream(await store.read(location))).toEqual(hashes(whole));
          }
          await store.deleteParts(id);
          await store.deleteParts(id);
          expect(await store.listParts(id)).toEqual([]);
          await store.delete(location);
        });
      },
      SLOW,
    );

    test("a failed re-send keeps the earlier part; a failed first send stores nothing", async () => {
      await leavesNothing(async () => {
        const id = sessionId();
        const part = new Uint8Array(randomBytes(100));
        await store.putPart(id, 1, bodyOf(part).stream, { maxBytes: 100, offset: 0 });
        expect(
          await rejection(
            store.putPart(id, 1, bodyOf(new Uint8Array(101)).stream, { maxBytes: 100, offset: 0 }),
          ),
        ).toBeInstanceOf(BlobTooLargeError);
        expect(
          await rejection(
            store.putPart(id, 1, bodyOf(new Uint8Array(100)).stream, {
              maxBytes: 100,
              offset: 0,
              expectedSha256: hashes(part).sha256,
            }),
          ),
        ).toBeInstanceOf(BlobHashMismatchError);
        expect(
          await rejection(store.putPart(id, 2, failingBody(50), { maxBytes: 100, offset: 100 })),
        ).toBeInstanceOf(Error);
        expect(await store.listParts(id)).toEqual([{ partNumber: 1, size: 100 }]);
        const staged = await store.assembleParts(id, 1);
        expect(staged.sha256).toBe(hashes(part).sha256);
        await staged.discard();
        await store.deleteParts(id);
      });
    });

    test("putPart with skipSha1: the SHA-256 and size still come back; a SHA-1, if any, is the right one", async () => {
      await leavesNothing(async () => {
        const id = sessionId();
        const part = new Uint8Array(randomBytes(3 * MiB + 17));
        const info = await store.putPart(id, 1, bodyOf(part).stream, {
          maxBytes: 4 * MiB,
          offset: 0,
          skipSha1: true,
        });
        // Unchecked parts need no hash (the local store computes none): never a wrong one.
        expect(info.size).toBe(part.byteLength);
        expect(["", hashes(part).sha256]).toContain(info.sha256);
        // The option is a hint (S3 hashes while it buffers anyway): never a wrong SHA-1.
        expect(["", hashes(part).sha1]).toContain(info.sha1);
        const staged = await store.assembleParts(id, 1);
        expect({ sha256: staged.sha256, sha1: staged.sha1, size: staged.size }).toEqual(hashes(part));
        await staged.discard();
        await store.deleteParts(id);
      });
    });

    test("assembleParts with a missing part: MissingPartError naming it, nothing left", async () => {
      await leavesNothing(async () => {
        const id = sessionId();
        await store.putPart(id, 1, bodyOf(new Uint8Array(10)).stream, { maxBytes: 10, offset: 0 });
        await store.putPart(id, 3, bodyOf(new Uint8Array(10)).stream, { maxBytes: 10, offset: 20 });
        const err = await rejection(store.assembleParts(id, 4));
        expect(err).toBeInstanceOf(MissingPartError);
        expect((err as MissingPartError).missing).toEqual([2, 4]);
        await store.deleteParts(id);
      });
    });

    test("sessions are separate", async () => {
      const a = sessionId();
      const b = sessionId();
      await store.putPart(a, 1, bodyOf(new Uint8Array(10)).stream, { maxBytes: 10, offset: 0 });
      expect(await store.listParts(b)).toEqual([]);
      await store.deleteParts(b);
      expect(await store.listParts(a)).toEqual([{ partNumber: 1, size: 10 }]);
      await store.deleteParts(a);
    });

    test("invalid session ids, part numbers and part counts are rejected", async () => {
      await leavesNothing(async () => {
        const body = () => bodyOf(new Uint8Array(1)).stream;
        const ok = sessionId();
        for (const bad of [
          "",
          "short",
          "a".repeat(65),
          "../../../../etc/passwd",
          "abcdefgh/ijklmnopq",
          "abcdefgh ijklmnopq",
          "abcdefghijklmnop\0",
          "abcdefghijklmnop.",
          42 as unknown as string,
        ]) {
          expect(await rejection(store.putPart(bad, 1, body(), { maxBytes: 1, offset: 0 }))).toBeInstanceOf(
            InvalidPartError,
          );
          expect(await rejection(store.listParts(bad))).toBeInstanceOf(InvalidPartError);
          expect(await rejection(store.assembleParts(bad, 1))).toBeInstanceOf(InvalidPartError);
          expect(await rejection(store.deleteParts(bad))).toBeInstanceOf(InvalidPartError);
          if (store.presignPart)
            expect(await rejection(store.presignPart(bad, 1, 60))).toBeInstanceOf(InvalidPartError);
        }
        for (const bad of [
          0,
          10001,
          -1,
          Number.NaN,
          1.5,
          Number.POSITIVE_INFINITY,
          "1/../2" as unknown as number,
        ]) {
          expect(await rejection(store.putPart(ok, bad, body(), { maxBytes: 1, offset: 0 }))).toBeInstanceOf(
            InvalidPartError,
          );
          expect(await rejection(store.assembleParts(ok, bad))).toBeInstanceOf(InvalidPartError);
          if (store.presignPart)
            expect(await rejection(store.presignPart(ok, bad, 60))).toBeInstanceOf(InvalidPartError);
        }
        await store.putPart(ok, 10000, body(), { maxBytes: 1, offset: 9999 }); // the last valid number
        expect(await store.listParts(ok)).toEqual([{ partNumber: 10000, size: 1 }]);
        await store.deleteParts(ok);
      });
    });

    if (backend.backend === "s3") {
      test("presignPart: a plain PUT to the URL stores the part; listParts and assembleParts see it", async () => {
        await leavesNothing(async () => {
          const id = sessionId();
          const bytes = new Uint8Array(randomBytes(100_000));
          const url = await store.presignPart?.(id, 1, 300);
          expect(url).toStartWith(process.env.TEST_S3_ENDPOINT ?? "");
          const res = await fetch(url as string, { method: "PUT", body: bytes });
          expect(res.status).toBe(200);
          await res.arrayBuffer();
          expect(await store.listParts(id)).toEqual([{ partNumber: 1, size: 100_000 }]);
          const staged = await store.assembleParts(id, 1);
          expect(staged.sha256).toBe(hashes(bytes).sha256);
          await staged.discard();
          // A URL for another part does not authorize this one.
          const other = new URL(url as string);
          other.pathname = other.pathname.replace(/\/1$/, "/2");
          const denied = await fetch(other, { method: "PUT", body: bytes });
          expect(denied.status).toBe(403);
          await denied.arrayBuffer();
          await store.deleteParts(id);
          expect(await rejection(store.presignPart?.(id, 1, 0) ?? Promise.resolve())).toBeInstanceOf(
            InvalidArgumentError,
          );
        });
      });
      test(
        "stage to a chosen location; abortStage cleans up after a stage that never finished",
        async () => {
          await leavesNothing(async () => {
            const bytes = new Uint8Array(randomBytes(1000));
            const location = store.newLocation?.() as string;
            expect(location).toMatch(/^blobs\/[0-9a-f-]{36}$/);
            const staged = await store.stage(bodyOf(bytes).stream, { location });
            expect(await staged.commit()).toBe(location);
            expect(await readAll(await store.read(location))).toEqual(bytes);
            await store.delete(location);
            expect(
              await rejection(store.stage(bodyOf(bytes).stream, { location: "elsewhere" })),
            ).toBeInstanceOf(InvalidLocationError);

            // A stage whose process "dies" after its first part: the body stalls, as a killed copy would.
            const hung = store.newLocation?.() as string;
            let fail: (err: Error) => void = () => {};
            const stalled = new Promise<never>((_, reject) => {
              fail = reject;
            });
            async function* body() {
              yield new Uint8Array(randomBytes(S3_PART_SIZE + 1));
              await stalled;
            }
            const pending = store.stage(body(), { location: hung }).catch((err: unknown) => err);
            const until = Date.now() + 30_000;
            while (!(await opened.snapshot()).includes(`(multipart upload) ${hung}`)) {
              if (Date.now() > until) throw new Error("the multipart upload never started");
              await Bun.sleep(50);
            }
            await store.abortStage?.(hung);
            await store.abortStage?.(hung); // idempotent
            expect(await opened.snapshot()).not.toContain(`(multipart upload) ${hung}`);
            fail(new Error("killed"));
            expect(await pending).toBeInstanceOf(Error);
          });
        },
        SLOW,
      );
    } else {
      test("the local backend offers no presigned URLs nor chosen locations", async () => {
        expect(store.presignPart).toBeUndefined();
        expect(store.newLocation).toBeUndefined();
        expect(store.abortStage).toBeUndefined();
        expect(
          await rejection(store.stage(bodyOf(new Uint8Array(1)).stream, { location: "blobs/x" })),
        ).toBeInstanceOf(InvalidArgumentError);
      });
    }
  });
}

describe("freeingChunks", () => {
  test("frees each whole chunk once the next is asked for; leaves a view of part of a buffer alone", async () => {
    const whole = new Uint8Array([1, 2, 3]);
    const view = new Uint8Array(8).subarray(2, 4);
    const it = freeingChunks(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(whole);
          controller.enqueue(view);
          controller.close();
        },
      }),
    );
    expect((await it.next()).value).toBe(whole);
    expect(whole.byteLength).toBe(3); // still the consumer's
    expect((await it.next()).value).toBe(view);
    expect(whole.byteLength).toBe(0); // detached: its memory is freed
    expect((await it.next()).done).toBe(true);
    expect(view.byteLength).toBe(2);
  });
});

describe("blob store configuration from the environment", () => {
  test("defaults: local under DATA_DIR", () => {
    expect(blobStoreConfigFromEnv({ DATA_DIR: "/srv/fs" })).toEqual({
      backend: "local",
      root: "/srv/fs/blobs-root",
    });
    expect(blobStoreConfigFromEnv({ DATA_DIR: "/srv/fs", BLOB_DIR: "/mnt/blobs" })).toEqual({
      backend: "local",
      root: "/mnt/blobs",
    });
  });

  test("s3: defaults and flags", () => {
    const env = {
      BLOB_BACKEND: "s3",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_ACCESS_KEY: "a",
      S3_SECRET_KEY: "b",
    };
    expect(blobStoreConfigFromEnv(env)).toEqual({
      backend: "s3",
      endPoint: "http://127.0.0.1:9000",
      accessKey: "a",
      secretKey: "b",
      region: "us-east-1",
      bucket: "filestore",
      pathStyle: true,
      createBucket: true,
    });
    expect(
      blobStoreConfigFromEnv({
        ...env,
        S3_PATH_STYLE: "false",
        S3_CREATE_BUCKET: "0",
        S3_BUCKET: "x",
        S3_REGION: "eu-west-3",
      }),
    ).toMatchObject({ pathStyle: false, createBucket: false, bucket: "x", region: "eu-west-3" });
  });

  test("storage policies: which store new content lands in, which ones are read", () => {
    const s3 = { S3_ENDPOINT: "http://127.0.0.1:9000", S3_ACCESS_KEY: "a", S3_SECRET_KEY: "b" };
    const backends = (env: Record<string, string>) => {
      const c = storageConfigFromEnv({ DATA_DIR: "/d", ...env });
      return [c.policy, c.landing.backend, c.stores.map((x) => x.backend)];
    };
    expect(backends({})).toEqual(["local", "local", ["local"]]);
    expect(backends(s3)).toEqual(["local", "local", ["local", "s3"]]);
    expect(backends({ ...s3, BLOB_BACKEND: "s3" })).toEqual(["s3", "s3", ["s3"]]);
    expect(backends({ ...s3, STORAGE_POLICY: "s3", BLOB_DIR: "/b" })).toEqual(["s3", "s3", ["s3", "local"]]);
    expect(backends({ ...s3, STORAGE_POLICY: "transfer" })).toEqual(["transfer", "local", ["local", "s3"]]);
    expect(backends({ ...s3, STORAGE_POLICY: "transfer", BLOB_BACKEND: "local" })[0]).toBe("transfer");
    expect(() => storageConfigFromEnv({ STORAGE_POLICY: "transfer" })).toThrow("S3_ENDPOINT");
    expect(() => storageConfigFromEnv({ ...s3, STORAGE_POLICY: "transfer", BLOB_BACKEND: "s3" })).toThrow(
      "contradicts",
    );
    expect(() => storageConfigFromEnv({ STORAGE_POLICY: "cloud" })).toThrow("STORAGE_POLICY");
  });

  test("bad or missing values are named", () => {
    expect(() => blobStoreConfigFromEnv({ BLOB_BACKEND: "ftp" })).toThrow("BLOB_BACKEND");
    expect(() => blobStoreConfigFromEnv({ BLOB_BACKEND: "s3" })).toThrow("S3_ENDPOINT");
    expect(() =>
      blobStoreConfigFromEnv({
        BLOB_BACKEND: "s3",
        S3_ENDPOINT: "http://x",
        S3_ACCESS_KEY: "a",
        S3_SECRET_KEY: "b",
        S3_PATH_STYLE: "maybe",
      }),
    ).toThrow("S3_PATH_STYLE");
  });
});
