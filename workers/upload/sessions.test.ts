// Multipart upload sessions against real blob stores (local disk, and Ceph RGW when configured).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { type AssembleEvent, createLocalBlobStore } from "../lib/blobstore/local/index.ts";
import { type TestBlobStore, testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import { deleteAccount } from "../meta/account-deletion.ts";
import { testDatabases } from "../meta/db/testing.ts";
import * as sessions from "./sessions.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";

const KiB = 1024;
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const stream = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream();

const code = codeOf;

/** A session for `data` named big.bin, announcing its SHA-256 unless `over` says otherwise. */
const createFor = (
  f: UploadFixture,
  who: Identity,
  data: Uint8Array,
  over: Partial<{ sha256: string; sha1: string; size: bigint }> = {},
) =>
  sessions.createSession(f.deps, who, {
    name: "big.bin",
    parentId: "",
    size: BigInt(data.length),
    sha256: sha256(data),
    ...over,
  });

for (const backend of testBlobStores()) {
  describe(`multipart sessions on ${backend.backend}`, () => {
    const clock = { now: 10_000_000 };
    let f: UploadFixture;
    let alice: Identity;
    let bob: Identity;
    const data = crypto.getRandomValues(new Uint8Array(64 * KiB * 4 + 1234)); // 5 parts of 64 KiB, the last short
    const part = (n: number) => data.subarray((n - 1) * 64 * KiB, Math.min(n * 64 * KiB, data.length));

    beforeEach(async () => {
      f = await openUploadFixture(backend, clock);
      alice = await f.user("alice");
      bob = await f.user("bob");
    });
    afterEach(() => f.close());

    const create = (over: Partial<{ sha256: string; size: bigint }> = {}) => createFor(f, alice, data, over);
    const fileRows = () => f.db.selectFrom("files").selectAll().execute();

    test("parts out of order and in parallel, re-sent, listed, completed (twice): identical content", async () => {
      const s = await create();
      expect([s.partSize, s.partCount]).toEqual([BigInt(64 * KiB), 5]);
      await sessions.putPart(f.deps, alice, s.id, 4, stream(part(4)), { sha256: sha256(part(4)) });
      await Promise.all([2, 5].map((n) => sessions.putPart(f.deps, alice, s.id, n, stream(part(n)))));
      await sessions.putPart(f.deps, alice, s.id, 2, stream(part(2))); // re-sent
      const listed = await sessions.listParts(f.deps, alice, s.id);
      expect(listed.parts.map((p) => [p.partNumber, p.size])).toEqual(
        [2, 4, 5].map((n) => [n, part(n).length]),
      );
      // A checked part's hash is known; an unchecked one's may be (S3 hashes anyway), never wrong.
      expect(listed.parts[1]?.sha256).toBe(sha256(part(4)));
      for (const p of listed.parts) expect(["", sha256(part(p.partNumber))]).toContain(p.sha256);
      for (const n of [1, 3]) await sessions.putPart(f.deps, alice, s.id, n, stream(part(n)));
      const file = await sessions.completeSession(f.deps, alice, s.id);
      expect([file.name, file.sha256, file.size]).toEqual(["big.bin", sha256(data), BigInt(data.length)]);
      const blob = await f.db.selectFrom("blobs").selectAll().executeTakeFirstOrThrow();
      const back = new Uint8Array(await new Response(await f.opened.store.read(blob.location)).arrayBuffer());
      expect(sha256(back)).toBe(sha256(data));
      expect((await sessions.completeSession(f.deps, alice, s.id)).id).toBe(file.id);
      expect(await fileRows()).toHaveLength(1);
      expect(await f.stored()).toEqual([blob.location]); // parts removed
    });

    test("a missing part: FailedPrecondition naming it, nothing visible; after sending it, completion works", async () => {
      const s = await create();
      for (const n of [1, 2, 4, 5]) await sessions.putPart(f.deps, alice, s.id, n, stream(part(n)));
      const err = await sessions.completeSession(f.deps, alice, s.id).catch((e) => ConnectError.from(e));
      expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([
        Code.FailedPrecondition,
        "missing parts: 3",
      ]);
      expect(await fileRows()).toHaveLength(0);
      await sessions.putPart(f.deps, alice, s.id, 3, stream(part(3)));
      expect((await sessions.completeSession(f.deps, alice, s.id)).sha256).toBe(sha256(data));
    });

    test("a wrong part size is refused when sent; a wrong whole-file hash at completion, nothing visible", async () => {
      const s = await create({ sha256: "0".repeat(64) });
      expect(await code(sessions.putPart(f.deps, alice, s.id, 1, stream(part(1).subarray(1))))).toBe(
        Code.InvalidArgument,
      );
      expect(await code(sessions.putPart(f.deps, alice, s.id, 5, stream(part(4))))).toBe(
        Code.ResourceExhausted,
      );
      for (let n = 1; n <= 5; n++) await sessions.putPart(f.deps, alice, s.id, n, stream(part(n)));
      expect(await code(sessions.completeSession(f.deps, alice, s.id))).toBe(Code.InvalidArgument);
      expect(await fileRows()).toHaveLength(0);
      expect((await f.db.selectFrom("blobs").selectAll().execute()).length).toBe(0);
    });

    test("a declared part hash that does not match is refused, and the part is not listed", async () => {
      const s = await create();
      expect(
        await code(sessions.putPart(f.deps, alice, s.id, 1, stream(part(1)), { sha256: sha256(part(2)) })),
      ).toBe(Code.InvalidArgument);
      expect(
        await code(sessions.putPart(f.deps, alice, s.id, 2, stream(part(2)), { sha1: "0".repeat(40) })),
      ).toBe(Code.InvalidArgument);
      expect((await sessions.listParts(f.deps, alice, s.id)).parts).toEqual([]);
      // A part stored earlier stays as it was when a re-send of it fails its check.
      await sessions.putPart(f.deps, alice, s.id, 3, stream(part(3)));
      const sha1Of = (b: Uint8Array) => new Bun.CryptoHasher("sha1").update(b).digest("hex");
      expect(
        await code(sessions.putPart(f.deps, alice, s.id, 3, stream(part(4)), { sha1: sha1Of(part(3)) })),
      ).toBe(Code.InvalidArgument);
      const listed = (await sessions.listParts(f.deps, alice, s.id)).parts;
      expect(listed.map((p) => [p.partNumber, p.size])).toEqual([[3, part(3).length]]);
      await sessions.putPart(f.deps, alice, s.id, 2, stream(part(2)), {
        sha1: sha1Of(part(2)).toUpperCase(),
      });
      expect((await sessions.listParts(f.deps, alice, s.id)).parts.map((p) => p.partNumber)).toEqual([2, 3]);
    });

    test("a part that does not verify carries the reason PART_MISMATCH; a wrong part number does not", async () => {
      const s = await create();
      const reason = (p: Promise<unknown>) =>
        p.then(
          () => "ok",
          (e) => reasonOf(e) ?? "none",
        );
      expect(await reason(sessions.putPart(f.deps, alice, s.id, 1, stream(part(1).subarray(1))))).toBe(
        Reason.PART_MISMATCH,
      );
      expect(await reason(sessions.putPart(f.deps, alice, s.id, 5, stream(part(4))))).toBe(
        Reason.PART_MISMATCH,
      );
      const wrongHash = { sha256: sha256(part(2)) };
      expect(await reason(sessions.putPart(f.deps, alice, s.id, 1, stream(part(1)), wrongHash))).toBe(
        Reason.PART_MISMATCH,
      );
      expect(
        await reason(sessions.putPart(f.deps, alice, s.id, 1, stream(part(1)), { sha1: "nothex" })),
      ).toBe(Reason.PART_MISMATCH);
      expect(await reason(sessions.putPart(f.deps, alice, s.id, 6, stream(part(1))))).toBe("none");
      expect(await reason(sessions.putPart(f.deps, alice, s.id, 1, stream(part(1))))).toBe("ok");
    });

    test("someone else's session is NotFound for every operation", async () => {
      const s = await create();
      await sessions.putPart(f.deps, alice, s.id, 1, stream(part(1)));
      expect(await code(sessions.putPart(f.deps, bob, s.id, 2, stream(part(2))))).toBe(Code.NotFound);
      expect(await code(sessions.listParts(f.deps, bob, s.id))).toBe(Code.NotFound);
      expect(await code(sessions.completeSession(f.deps, bob, s.id))).toBe(Code.NotFound);
      expect(await code(sessions.abortSession(f.deps, bob, s.id))).toBe(Code.NotFound);
      expect((await sessions.listParts(f.deps, alice, s.id)).parts).toHaveLength(1);
    });

    test.each([["../../etc"], ["a\u0000b"], ["x".repeat(300)], [""], ["short"]])(
      "session id %p is InvalidArgument",
      async (id) => {
        expect(await code(sessions.listParts(f.deps, alice, id))).toBe(Code.InvalidArgument);
      },
    );

    test("part numbers outside 1..part_count are InvalidArgument", async () => {
      const s = await create();
      for (const n of [0, -1, 6, 10_001, 1.5, Number.NaN]) {
        expect([n, await code(sessions.putPart(f.deps, alice, s.id, n, stream(part(1))))]).toEqual([
          n,
          Code.InvalidArgument,
        ]);
      }
    });

    test("abort removes the parts; the session takes no more", async () => {
      const s = await create();
      await sessions.putPart(f.deps, alice, s.id, 1, stream(part(1)));
      await sessions.abortSession(f.deps, alice, s.id);
      expect(await f.stored()).toEqual([]);
      expect(await code(sessions.putPart(f.deps, alice, s.id, 2, stream(part(2))))).toBe(
        Code.FailedPrecondition,
      );
      expect(await code(sessions.completeSession(f.deps, alice, s.id))).toBe(Code.FailedPrecondition);
    });

    test("expired sessions refuse parts and are swept with their parts", async () => {
      const s = await create();
      await sessions.putPart(f.deps, alice, s.id, 1, stream(part(1)));
      clock.now += f.deps.sessionTtlMs + 1;
      expect(await code(sessions.putPart(f.deps, alice, s.id, 2, stream(part(2))))).toBe(
        Code.FailedPrecondition,
      );
      expect(await sessions.sweepSessions(f.deps)).toBe(1);
      expect(await f.stored()).toEqual([]);
      expect(await code(sessions.listParts(f.deps, alice, s.id))).toBe(Code.NotFound);
      clock.now -= f.deps.sessionTtlMs + 1;
    });

    if (backend.backend === "s3") {
      test("parts PUT straight to S3 through presigned URLs complete like any other", async () => {
        const s = await create();
        for (let n = 1; n <= 5; n++) {
          const url = await f.opened.store.presignPart?.(s.id, n, 600);
          const res = await fetch(url as string, { method: "PUT", body: part(n) as Uint8Array<ArrayBuffer> });
          expect(res.status).toBe(200);
        }
        expect((await sessions.listParts(f.deps, alice, s.id)).parts).toHaveLength(5);
        expect((await sessions.completeSession(f.deps, alice, s.id)).sha256).toBe(sha256(data));
      });
    }
  });
}

// Completion on local disk finishes the whole-file hash that this process computed while the parts
// arrived; which way it went is seen through the store's onAssemble hook. On both databases.
for (const database of testDatabases()) {
  describe(`multipart completion on local disk, background whole-file hash (${database.dialect})`, () => {
    const clock = { now: 10_000_000 };
    let f: UploadFixture;
    let alice: Identity;
    let root: string;
    let events: AssembleEvent[];
    const data = crypto.getRandomValues(new Uint8Array(64 * KiB * 4 + 1234));
    const part = (n: number) => data.subarray((n - 1) * 64 * KiB, Math.min(n * 64 * KiB, data.length));
    const sha1 = (b: Uint8Array) => new Bun.CryptoHasher("sha1").update(b).digest("hex");
    const local: TestBlobStore = {
      backend: "local",
      async open() {
        return {
          store: await createLocalBlobStore(root, { onAssemble: (e) => events.push(e) }),
          snapshot: async () => [],
          close: async () => {},
        };
      },
    };
    const tmpFiles = () => readdir(join(root, "tmp"));

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), "filestore-sessions-"));
      events = [];
      f = await openUploadFixture(local, clock, database);
      alice = await f.user("alice");
    });
    afterEach(async () => {
      await f.close();
      await rm(root, { recursive: true, force: true });
    });

    const create = (over: Partial<{ sha256: string; sha1: string }> = {}) => createFor(f, alice, data, over);
    const putAll = async (id: string, order = [1, 2, 3, 4, 5]) => {
      for (const n of order) await sessions.putPart(f.deps, alice, id, n, stream(part(n)));
    };

    test("parts in order, out of order and in parallel: completion reads no part again", async () => {
      for (const order of [[1, 2, 3, 4, 5], [4, 2, 5, 1, 3], undefined]) {
        const s = await create();
        if (order) await putAll(s.id, order);
        else await Promise.all([1, 2, 3, 4, 5].map((n) => putAll(s.id, [n])));
        // One name per file in a folder (issue 16): each completion names its own.
        const name = `big-${order?.join("") ?? "parallel"}.bin`;
        const file = await sessions.completeSession(f.deps, alice, s.id, { name });
        expect([file.sha256, file.size]).toEqual([sha256(data), BigInt(data.length)]);
        expect(events.pop()).toEqual({ sessionId: s.id, incremental: true, partsRead: 0 });
      }
      expect(await tmpFiles()).toEqual([]);
    });

    test("a session with an announced SHA-1 (legacy) gets it from the background hash", async () => {
      const s = await create({ sha1: sha1(data) });
      await putAll(s.id);
      const file = await sessions.completeSession(f.deps, alice, s.id);
      expect(events).toEqual([{ sessionId: s.id, incremental: true, partsRead: 0 }]);
      const blob = await f.db.selectFrom("blobs").selectAll().executeTakeFirstOrThrow();
      expect([file.sha256, blob.sha1]).toEqual([sha256(data), sha1(data)]);
    });

    test("a re-sent part: the right content", async () => {
      const s = await create();
      await putAll(s.id, [1, 2, 3]);
      await sessions.putPart(f.deps, alice, s.id, 2, stream(part(2))); // the same bytes again
      await putAll(s.id, [4, 5]);
      expect((await sessions.completeSession(f.deps, alice, s.id)).sha256).toBe(sha256(data));
      expect(events).toEqual([{ sessionId: s.id, incremental: true, partsRead: 0 }]);
    });

    test("a wrong whole-file hash fails with nothing visible and no temp left", async () => {
      const s = await create({ sha256: "0".repeat(64) });
      await putAll(s.id);
      expect(await code(sessions.completeSession(f.deps, alice, s.id))).toBe(Code.InvalidArgument);
      expect(events).toEqual([{ sessionId: s.id, incremental: true, partsRead: 0 }]);
      expect(await f.db.selectFrom("files").selectAll().execute()).toHaveLength(0);
      expect(await f.db.selectFrom("blobs").selectAll().execute()).toHaveLength(0);
      expect(await tmpFiles()).toEqual([]);
      expect((await readdir(join(root, "blobs"))).length).toBe(0);
    });

    test("after a restart of the worker (a fresh store) completion reads the whole file", async () => {
      const s = await create();
      await putAll(s.id);
      const restarted = await createLocalBlobStore(root, { onAssemble: (e) => events.push(e) });
      const file = await sessions.completeSession({ ...f.deps, blobs: restarted }, alice, s.id);
      expect(file.sha256).toBe(sha256(data));
      expect(events).toEqual([{ sessionId: s.id, incremental: false, partsRead: 5 }]);
    });

    test("abort and the expiry sweep remove the session's file and records", async () => {
      const sessionDirs = () => readdir(join(root, "parts"));
      const s = await create();
      await putAll(s.id, [1, 2]);
      expect(await sessionDirs()).toEqual([s.id]);
      await sessions.abortSession(f.deps, alice, s.id);
      expect(await sessionDirs()).toEqual([]);
      const t = await create();
      await putAll(t.id, [1, 2]);
      expect(await sessionDirs()).toEqual([t.id]);
      clock.now += f.deps.sessionTtlMs + 1;
      try {
        expect(await sessions.sweepSessions(f.deps)).toBeGreaterThanOrEqual(1);
      } finally {
        clock.now -= f.deps.sessionTtlMs + 1;
      }
      expect(await sessionDirs()).toEqual([]);
      expect(await tmpFiles()).toEqual([]);
    });
  });
}

// A deleted account's unfinished sessions: their rows go with the user, their staged parts are recorded
// for the sweep, which deletes them (on disk, or the part objects in S3) as for an aborted session.
for (const backend of testBlobStores())
  for (const database of testDatabases())
    describe(`a deleted account's sessions on ${backend.backend} and ${database.dialect}`, () => {
      const clock = { now: 10_000_000 };
      let f: UploadFixture;
      beforeEach(async () => {
        f = await openUploadFixture(backend, clock, database);
      });
      afterEach(() => f.close());

      test("the sweep deletes the parts of a half-done session once its owner is deleted", async () => {
        const carol = await f.user("carol");
        const dave = await f.user("dave");
        const data = crypto.getRandomValues(new Uint8Array(64 * KiB * 3));
        const half = await createFor(f, carol, data);
        await sessions.putPart(f.deps, carol, half.id, 1, stream(data.subarray(0, 64 * KiB)));
        await sessions.putPart(f.deps, carol, half.id, 2, stream(data.subarray(64 * KiB, 128 * KiB)));
        // Another user's live session is left alone.
        const kept = await createFor(f, dave, data);
        await sessions.putPart(f.deps, dave, kept.id, 1, stream(data.subarray(0, 64 * KiB)));
        const of = async (id: string) => (await f.stored()).filter((x) => x.includes(id));
        expect((await of(half.id)).length).toBeGreaterThanOrEqual(2);
        const daves = await of(kept.id);
        await deleteAccount(f.db, carol.userId, clock.now);
        expect(
          await f.db.selectFrom("upload_sessions").select("id").where("id", "=", half.id).execute(),
        ).toEqual([]);
        expect(await sessions.sweepSessions(f.deps)).toBe(1);
        expect(await f.db.selectFrom("orphaned_upload_sessions").selectAll().execute()).toEqual([]);
        expect(await sessions.sweepSessions(f.deps)).toBe(0);
        // Only dave's part is left; his session still completes.
        expect([await of(half.id), await of(kept.id)]).toEqual([[], daves]);
        await sessions.putPart(f.deps, dave, kept.id, 2, stream(data.subarray(64 * KiB, 128 * KiB)));
        await sessions.putPart(f.deps, dave, kept.id, 3, stream(data.subarray(128 * KiB)));
        await sessions.completeSession(f.deps, dave, kept.id);
      });
    });
