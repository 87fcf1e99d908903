// Instant upload: a hash alone never grants content; the right proof of possession does.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import type { BlobStore } from "../lib/blobstore/types.ts";
import { codeOf } from "../lib/testing.ts";
import {
  CHALLENGE_TTL_MS,
  linkBySha1,
  MAX_CHALLENGE_BYTES,
  offerContent,
  PROOF_FAILED,
  proveContent,
} from "./instant.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";
import { storeUpload } from "./upload.ts";
import type { UploadWorkerDeps } from "./wire.ts";

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const body = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();

const code = codeOf;

/** The code and message a call fails with. */
async function failureOf(p: Promise<unknown>): Promise<[Code, string]> {
  const err = await p.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  const c = ConnectError.from(err);
  return [c.code, c.rawMessage];
}

/** The signed fields of a challenge (visible to the client). */
function challengeFields(challengeId: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(challengeId.split(".")[0] ?? "", "base64url").toString());
}

/**
 * The deps with every call to meta and to a blob store recorded by name (newLocation, which computes a
 * name without I/O, is left out).
 */
function recording(deps: UploadWorkerDeps): { deps: UploadWorkerDeps; calls: string[] } {
  const calls: string[] = [];
  const wrap = <T extends object>(target: T, prefix: string): T =>
    new Proxy(target, {
      get(t, p) {
        const v = Reflect.get(t, p);
        if (typeof v !== "function" || p === "newLocation") return v;
        return (...args: unknown[]) => {
          calls.push(`${prefix}.${String(p)}`);
          return v.apply(t, args);
        };
      },
    });
  const store = (s: BlobStore) => wrap(s, s.backend);
  return {
    calls,
    deps: {
      ...deps,
      meta: wrap(deps.meta, "meta"),
      blobs: store(deps.blobs),
      storeFor: (b) => store(deps.storeFor(b)),
      settledStore: store(deps.settledStore ?? deps.blobs),
    },
  };
}

for (const backend of testBlobStores()) {
  describe(`instant upload on ${backend.backend}`, () => {
    const clock = { now: 1_000_000 };
    let f: UploadFixture;
    let alice: Identity;
    let bob: Identity;
    const data = crypto.getRandomValues(new Uint8Array(300_000));
    const hash = sha256(data);

    beforeEach(async () => {
      f = await openUploadFixture(backend, clock);
      alice = await f.user("alice");
      bob = await f.user("bob");
      await storeUpload(f.deps, alice, { name: "original.bin", parentId: "" }, body(data));
    });
    afterEach(() => f.close());

    const offer = (who: Identity, over: Partial<{ sha256: string; size: bigint; name: string }> = {}) =>
      offerContent(f.deps, who, {
        sha256: hash,
        size: BigInt(data.length),
        name: "mine.bin",
        parentId: "",
        ...over,
      });
    const proofFor = (start: bigint, length: bigint) =>
      sha256(data.subarray(Number(start), Number(start + length)));

    test("another user with the right proof gets the file; one copy, refcount 2", async () => {
      const c = await offer(bob);
      expect(c.challengeId).not.toBe("");
      expect(c.rangeLength).toBe(BigInt(MAX_CHALLENGE_BYTES));
      expect(c.rangeStart + c.rangeLength).toBeLessThanOrEqual(BigInt(data.length));
      const file = await proveContent(f.deps, bob, {
        challengeId: c.challengeId,
        rangeSha256: proofFor(c.rangeStart, c.rangeLength),
      });
      expect([file.name, file.sha256, file.size]).toEqual(["mine.bin", hash, BigInt(data.length)]);
      const blob = await f.db.selectFrom("blobs").selectAll().executeTakeFirstOrThrow();
      expect(blob.refcount).toBe(2);
      expect(await f.stored()).toHaveLength(1);
    });

    test("a wrong proof is refused and links nothing", async () => {
      const c = await offer(bob);
      const wrong = [
        sha256(new Uint8Array(Number(c.rangeLength))), // zeros
        proofFor(c.rangeStart + 1n, c.rangeLength), // shifted by one
        hash, // the whole file's hash is not the range's
      ];
      for (const rangeSha256 of wrong) {
        expect(await code(proveContent(f.deps, bob, { challengeId: c.challengeId, rangeSha256 }))).toBe(
          Code.FailedPrecondition,
        );
      }
      expect((await f.db.selectFrom("files").select("owner_id").execute()).map((r) => r.owner_id)).toEqual([
        alice.userId,
      ]);
    });

    test("unknown content, or known content with another size, answers like held content and fails like a wrong proof", async () => {
      const held = await offer(bob);
      const unknown = await offer(bob, { sha256: "ab".repeat(32) });
      const resized = await offer(bob, { size: BigInt(data.length + 1) });
      for (const other of [unknown, resized]) {
        expect(Object.keys(other).sort()).toEqual(Object.keys(held).sort());
        expect(other.rangeLength).toBe(held.rangeLength);
        expect(other.rangeStart + other.rangeLength).toBeLessThanOrEqual(BigInt(data.length + 1));
        const [a, b] = [challengeFields(held.challengeId), challengeFields(other.challengeId)];
        expect(Object.keys(b)).toEqual(Object.keys(a));
        expect(Object.values(b).map((v) => typeof v)).toEqual(Object.values(a).map((v) => typeof v));
        expect([b.u, b.n, b.p, b.l, b.e]).toEqual([a.u, a.n, a.p, a.l, a.e]);
        expect(other.challengeId.split(".")[1]?.length).toBe(held.challengeId.split(".")[1]?.length);
      }
      // A wrong proof for held content, and the bytes of the held content's range offered for content the
      // server does not hold (or holds with another size): one failure, word for word.
      const failures = await Promise.all([
        failureOf(proveContent(f.deps, bob, { challengeId: held.challengeId, rangeSha256: "0".repeat(64) })),
        ...[unknown, resized].map((c) =>
          failureOf(
            proveContent(f.deps, bob, {
              challengeId: c.challengeId,
              rangeSha256: proofFor(c.rangeStart, c.rangeLength),
            }),
          ),
        ),
      ]);
      expect(failures).toEqual([
        [Code.FailedPrecondition, PROOF_FAILED],
        [Code.FailedPrecondition, PROOF_FAILED],
        [Code.FailedPrecondition, PROOF_FAILED],
      ]);
      expect(
        await f.db.selectFrom("files").select("owner_id").where("owner_id", "=", bob.userId).execute(),
      ).toEqual([]);
    });

    test("held and unknown content take the same steps (no timing to tell them apart)", async () => {
      const { deps, calls } = recording(f.deps);
      const held = await offerContent(deps, bob, {
        sha256: hash,
        size: BigInt(data.length),
        name: "x",
        parentId: "",
      });
      const unknown = await offerContent(deps, bob, {
        sha256: "cd".repeat(32),
        size: BigInt(data.length),
        name: "x",
        parentId: "",
      });
      // An offer looks up the caller's own quota only, never the content: the same step for both.
      expect(calls.splice(0)).toEqual(["meta.checkQuota", "meta.checkQuota"]);
      await failureOf(
        proveContent(deps, bob, { challengeId: held.challengeId, rangeSha256: "0".repeat(64) }),
      );
      const heldSteps = calls.splice(0);
      await failureOf(
        proveContent(deps, bob, { challengeId: unknown.challengeId, rangeSha256: "0".repeat(64) }),
      );
      expect(calls.splice(0)).toEqual(heldSteps);
      expect(heldSteps).toEqual(["meta.getBlob", `${backend.backend}.read`]);
    });

    test("challenges are bound to their user, expire, and cannot be forged", async () => {
      const c = await offer(bob);
      const proof = proofFor(c.rangeStart, c.rangeLength);
      expect(
        await code(proveContent(f.deps, alice, { challengeId: c.challengeId, rangeSha256: proof })),
      ).toBe(Code.PermissionDenied);
      const [payload, mac] = c.challengeId.split(".") as [string, string];
      const forged = JSON.parse(Buffer.from(payload, "base64url").toString());
      forged.s = 0;
      forged.l = 0; // an empty range would be trivially provable
      const tampered = `${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${mac}`;
      expect(
        await code(
          proveContent(f.deps, bob, { challengeId: tampered, rangeSha256: sha256(new Uint8Array(0)) }),
        ),
      ).toBe(Code.InvalidArgument);
      expect(await code(proveContent(f.deps, bob, { challengeId: "garbage", rangeSha256: proof }))).toBe(
        Code.InvalidArgument,
      );
      clock.now += CHALLENGE_TTL_MS + 1;
      expect(await code(proveContent(f.deps, bob, { challengeId: c.challengeId, rangeSha256: proof }))).toBe(
        Code.FailedPrecondition,
      );
      clock.now -= CHALLENGE_TTL_MS + 1;
    });

    test("bad offers are InvalidArgument", async () => {
      expect(await code(offer(bob, { sha256: "../../etc/passwd" }))).toBe(Code.InvalidArgument);
      expect(await code(offer(bob, { size: -1n }))).toBe(Code.InvalidArgument);
      expect(await code(offer(bob, { name: "a/b" }))).toBe(Code.InvalidArgument);
    });

    test("small files are challenged on their whole content", async () => {
      const tiny = new TextEncoder().encode("hello");
      await storeUpload(f.deps, alice, { name: "tiny.txt", parentId: "" }, body(tiny));
      const c = await offerContent(f.deps, bob, {
        sha256: sha256(tiny),
        size: 5n,
        name: "t.txt",
        parentId: "",
      });
      expect([c.rangeStart, c.rangeLength]).toEqual([0n, 5n]);
      expect(
        (await proveContent(f.deps, bob, { challengeId: c.challengeId, rangeSha256: sha256(tiny) })).name,
      ).toBe("t.txt");
    });
  });
}

for (const backend of testBlobStores()) {
  describe(`legacy SHA-1 fast upload on ${backend.backend}`, () => {
    let f: UploadFixture;
    let alice: Identity;
    let bob: Identity;
    const data = crypto.getRandomValues(new Uint8Array(10_000));
    const sha1 = new Bun.CryptoHasher("sha1").update(data).digest("hex");

    beforeEach(async () => {
      f = await openUploadFixture(backend);
      alice = await f.user("alice");
      bob = await f.user("bob");
      // A legacy upload: its SHA-1 is computed at once.
      await storeUpload(
        f.deps,
        alice,
        { name: "a.bin", parentId: "", sha1: true },
        new Blob([data]).stream(),
      );
    });
    afterEach(() => f.close());

    const link = (who: Identity, over: Partial<{ sha1: string; size: bigint; name: string }> = {}) =>
      linkBySha1(f.deps, who, { sha1, size: BigInt(data.length), name: "copy.bin", parentId: "", ...over });

    test("links content the caller already holds", async () => {
      const file = await link(alice);
      expect([file.name, file.sha1, file.size]).toEqual(["copy.bin", sha1, BigInt(data.length)]);
      expect((await f.db.selectFrom("blobs").select("refcount").executeTakeFirstOrThrow()).refcount).toBe(2);
    });

    test("never grants another user's content on the hash alone (unless the operator trusts SHA-1)", async () => {
      expect(await code(link(bob))).toBe(Code.NotFound);
      expect(
        await f.db.selectFrom("files").select("id").where("owner_id", "=", bob.userId).execute(),
      ).toHaveLength(0);
      f.deps.trustSha1 = true;
      expect((await link(bob)).sha1).toBe(sha1);
    });

    test("wrong size, unknown hash and bad input", async () => {
      expect(await code(link(alice, { size: 5n }))).toBe(Code.NotFound);
      expect(await code(link(alice, { sha1: "0".repeat(40) }))).toBe(Code.NotFound);
      expect(await code(link(alice, { sha1: "xyz" }))).toBe(Code.InvalidArgument);
      expect(await code(link(alice, { name: "../x" }))).toBe(Code.InvalidArgument);
    });
  });
}
