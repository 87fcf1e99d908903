// Multipart completion that survives a crash (a completion lease that a later call takes over, leftovers
// of the dead attempt removed), the folder of a session, and the limits on creating sessions. Against
// real blob stores (local disk, and Ceph RGW when configured). A "crash" is an attempt that took the
// session through meta and stopped where the process would have died.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { TransitionUploadSessionRequest_Transition as T } from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import * as sessions from "./sessions.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";
import { handleTus, TUS_PATH } from "./tus.ts";

const KiB = 1024;
const LEASE = 30_000;
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const stream = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream();
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e) => ConnectError.from(e),
  );

for (const backend of testBlobStores()) {
  describe(`completion after a crash, folders and limits on ${backend.backend}`, () => {
    const clock = { now: 10_000_000 };
    let f: UploadFixture;
    let alice: Identity;
    const data = crypto.getRandomValues(new Uint8Array(64 * KiB * 4 + 99));
    const part = (n: number) => data.subarray((n - 1) * 64 * KiB, Math.min(n * 64 * KiB, data.length));

    beforeEach(async () => {
      f = await openUploadFixture(backend, clock);
      f.deps.completionLeaseMs = LEASE;
      alice = await f.user("alice");
    });
    afterEach(() => f.close());

    const create = (over: Partial<sessions.NewSessionRequest> = {}, who = alice) =>
      sessions.createSession(f.deps, who, {
        name: "big.bin",
        parentId: "",
        size: BigInt(data.length),
        sha256: sha256(data),
        ...over,
      });
    const putAll = async (id: string) => {
      for (let n = 1; n <= 5; n++) await sessions.putPart(f.deps, alice, id, n, stream(part(n)));
    };
    /** A completion that took the session and died (after assembling and committing, when `committed`). */
    const crashedCompletion = async (id: string, committed: boolean) => {
      const owner = randomUUID();
      const taken = await f.deps.meta.transitionUploadSession({
        id,
        transition: T.BEGIN_COMPLETION,
        owner,
        leaseMs: BigInt(LEASE),
      });
      expect(taken.done).toBe(true);
      if (committed)
        await (await f.deps.blobs.assembleParts(id, 5, { skipSha1: true, attempt: owner })).commit();
    };
    const fileRows = () => f.db.selectFrom("files").selectAll().where("kind", "=", "file").execute();
    const blobLocations = async () =>
      (await f.db.selectFrom("blobs").select("location").execute()).map((b) => b.location);

    test("died after its bytes were in place: busy until the lease runs out, then taken over; one file, no leftover", async () => {
      const s = await create();
      await putAll(s.id);
      await crashedCompletion(s.id, true);
      const busy = await failure(sessions.completeSession(f.deps, alice, s.id));
      expect([busy?.code, busy?.rawMessage]).toEqual([
        Code.FailedPrecondition,
        "the upload session is being completed: wait for that answer, or call CompleteUploadSession again in 30 s (a completion that stopped is taken over then)",
      ]);
      // Resuming and listing still work meanwhile.
      expect((await sessions.listParts(f.deps, alice, s.id)).parts).toHaveLength(5);
      const resumed = await create({ resume: true });
      expect([resumed.id, resumed.resumed]).toEqual([s.id, true]);
      clock.now += LEASE;
      try {
        const file = await sessions.completeSession(f.deps, alice, s.id);
        expect([file.sha256, file.size]).toEqual([sha256(data), BigInt(data.length)]);
        expect((await sessions.completeSession(f.deps, alice, s.id)).id).toBe(file.id);
      } finally {
        clock.now -= LEASE;
      }
      expect(await fileRows()).toHaveLength(1);
      expect(await f.stored()).toEqual(await blobLocations()); // parts and the dead attempt's copy gone
    });

    test("died before assembling: after the lease a part reopens the session, and completion works", async () => {
      const s = await create();
      await putAll(s.id);
      await crashedCompletion(s.id, false);
      expect(await codeOf(sessions.putPart(f.deps, alice, s.id, 3, stream(part(3))))).toBe(Code.Aborted);
      clock.now += LEASE;
      try {
        await sessions.putPart(f.deps, alice, s.id, 3, stream(part(3)));
        expect((await sessions.completeSession(f.deps, alice, s.id)).sha256).toBe(sha256(data));
      } finally {
        clock.now -= LEASE;
      }
      expect(await fileRows()).toHaveLength(1);
      expect(await f.stored()).toEqual(await blobLocations());
    });

    test("a part after a dead completion whose bytes were in place: the copy goes, the part counts", async () => {
      const s = await create();
      await putAll(s.id);
      await crashedCompletion(s.id, true);
      clock.now += LEASE;
      try {
        await sessions.putPart(f.deps, alice, s.id, 2, stream(part(2)));
        expect((await sessions.completeSession(f.deps, alice, s.id)).sha256).toBe(sha256(data));
      } finally {
        clock.now -= LEASE;
      }
      expect(await f.stored()).toEqual(await blobLocations());
    });

    test("tus: HEAD after the last PATCH's completion died answers 423, then completes it once the lease ran out", async () => {
      const s = await create();
      await putAll(s.id);
      await crashedCompletion(s.id, true);
      const head = async () => {
        const url = new URL(`http://upload${TUS_PATH}${s.id}`);
        const req = new Request(url, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });
        const res = (await handleTus(f.deps, req, url, async () => alice)) as Response;
        return [res.status, res.headers.get("upload-offset")];
      };
      expect((await head())[0]).toBe(423);
      expect(await fileRows()).toEqual([]);
      clock.now += LEASE;
      try {
        expect(await head()).toEqual([200, String(data.length)]);
      } finally {
        clock.now -= LEASE;
      }
      expect((await fileRows()).map((r) => r.blob_sha256)).toEqual([sha256(data)]);
      expect(await f.stored()).toEqual(await blobLocations());
    });

    test("aborted or expired after a dead completion: its copy goes with the parts", async () => {
      const s = await create();
      await putAll(s.id);
      await crashedCompletion(s.id, true);
      await sessions.abortSession(f.deps, alice, s.id);
      expect(await f.stored()).toEqual([]);
      const t = await create();
      await putAll(t.id);
      await crashedCompletion(t.id, true);
      clock.now += f.deps.sessionTtlMs + 1;
      try {
        expect(await sessions.sweepSessions(f.deps)).toBeGreaterThanOrEqual(1);
      } finally {
        clock.now -= f.deps.sessionTtlMs + 1;
      }
      expect(await f.stored()).toEqual([]);
      expect(await fileRows()).toEqual([]);
    });

    test("a session goes into the caller's folder only; a folder gone before completion: a new parent_id", async () => {
      const bob = await f.user("bob");
      const { folder } = await f.deps.meta.createFolder({
        ownerId: alice.userId,
        parentId: "",
        name: "docs",
      });
      const id = folder?.id as string;
      for (const [who, parentId] of [
        [bob, id],
        [alice, "00000000-0000-4000-8000-000000000000"],
      ] as const) {
        const err = await failure(create({ parentId }, who));
        expect([err?.code, err?.rawMessage]).toEqual([
          Code.NotFound,
          "no such folder (or it is in the trash)",
        ]);
      }
      const s = await create({ parentId: id });
      await putAll(s.id);
      await f.deps.meta.trashFile({ ownerId: alice.userId, id });
      const gone = await failure(sessions.completeSession(f.deps, alice, s.id));
      expect(gone?.code).toBe(Code.FailedPrecondition);
      expect(gone?.rawMessage).toContain("CompleteUploadSession takes one too");
      const { folder: other } = await f.deps.meta.createFolder({
        ownerId: alice.userId,
        parentId: "",
        name: "new",
      });
      const newParent = other?.id as string;
      const file = await sessions.completeSession(f.deps, alice, s.id, { parentId: newParent });
      expect([file.parentId, file.sha256]).toEqual([newParent, sha256(data)]);
      expect(await f.stored()).toEqual(await blobLocations());
    });

    test("a user's open sessions are capped, with a message naming the limit; resuming does not count", async () => {
      f.deps.maxOpenSessions = 2;
      const first = await create({ size: 1n, sha256: undefined });
      await create({ size: 2n, sha256: undefined });
      const refused = await failure(create({ size: 3n, sha256: undefined }));
      expect(refused?.code).toBe(Code.ResourceExhausted);
      expect(refused?.rawMessage).toStartWith(
        "you have 2 upload sessions open, the most allowed per user (UPLOAD_MAX_OPEN_SESSIONS_PER_USER)",
      );
      expect(reasonOf(refused)).toBe(Reason.TOO_MANY_UPLOADS);
      expect((await create({ size: 1n, sha256: undefined, resume: true })).id).toBe(first.id);
      await sessions.abortSession(f.deps, alice, first.id);
      await create({ size: 3n, sha256: undefined });
    });

    if (backend.backend === "local") {
      test("a session that does not fit beside the open ones in the disk's free space is refused", async () => {
        const free = (await f.deps.blobs.availableBytes?.()) as number;
        f.deps.maxUploadBytes = 4 * free;
        // 60% of the free space twice does not fit, whatever else writes to the disk meanwhile (±10%).
        const size = BigInt(Math.floor(free * 0.6));
        const first = await create({ size, sha256: undefined });
        const full = await failure(create({ size, sha256: undefined }));
        expect([full?.code, full?.rawMessage]).toEqual([
          Code.ResourceExhausted,
          "the server's storage is full: this upload does not fit in the space left beside the uploads in progress; try again later, or ask the operator to free space",
        ]);
        expect(reasonOf(full)).toBe(Reason.STORAGE_FULL);
        expect((await failure(create({ size: BigInt(2 * free), sha256: undefined })))?.code).toBe(
          Code.ResourceExhausted,
        );
        await sessions.abortSession(f.deps, alice, first.id);
        await create({ size, sha256: undefined });
      });
    }
  });
}
