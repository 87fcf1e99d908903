// The upload paths under a quota, on SQLite and MariaDB with a local blob store: single uploads with an
// announced size (refused before a byte is stored) or without one (cut off at the limit), 20 parallel
// uploads and 20 parallel sessions of one user (exactly the ones that fit succeed; completion, abort
// and expiry leave no reservation behind), and instant uploads (charged in full).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { ErrorInfoSchema } from "../../proto/gen/google/rpc/error_details_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import type { Db } from "../meta/db/database.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { setQuota } from "../meta/quota.ts";
import { linkBySha1, offerContent, proveContent } from "./instant.ts";
import * as sessions from "./sessions.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";
import { SMALL_UPLOAD_BYTES, storeUpload } from "./upload.ts";
import type { UploadWorkerDeps } from "./wire.ts";

const KiB = 1024;
const local = testBlobStores().filter((b) => b.backend === "local");
const data = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
const chunked = (b: Uint8Array, chunk = 16 * KiB) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < b.length; i += chunk) c.enqueue(b.subarray(i, i + chunk));
      c.close();
    },
  });
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => `${Code[ConnectError.from(e).code]}:${reasonOf(e) ?? ConnectError.from(e).rawMessage}`,
  );
const REFUSED = `ResourceExhausted:${Reason.QUOTA_EXCEEDED}`;

for (const backend of local)
  for (const database of testDatabases()) {
    describe(`uploads under a quota on ${database.dialect}`, () => {
      let f: UploadFixture;
      let db: Db;
      let deps: UploadWorkerDeps;
      let alice: Identity;
      beforeEach(async () => {
        f = await openUploadFixture(backend, { now: Date.now() }, database);
        ({ db, deps } = f);
        alice = await f.user("alice");
        await setQuota(db, alice.userId, 1024 * KiB);
      });
      afterEach(() => f.close());

      const counters = async () => {
        const r = await db
          .selectFrom("users")
          .select(["used_bytes", "reserved_bytes", "pending_bytes"])
          .where("id", "=", alice.userId)
          .executeTakeFirstOrThrow();
        return [Number(r.used_bytes), Number(r.reserved_bytes), Number(r.pending_bytes)];
      };
      const fileCount = async () =>
        (await db.selectFrom("files").select("id").where("owner_id", "=", alice.userId).execute()).length;

      test("an announced size over the quota is refused before any byte is stored; a fitting one is charged", async () => {
        const big = data(1100 * KiB);
        const err = await storeUpload(
          deps,
          alice,
          { name: "big", parentId: "", expectedSize: big.length },
          chunked(big),
        ).catch((e: unknown) => ConnectError.from(e));
        expect(reasonOf(err)).toBe(Reason.QUOTA_EXCEEDED);
        expect((err as ConnectError).rawMessage).toStartWith(
          "quota exceeded: 0 B of 1 MiB used, this upload needs 1.1 MiB",
        );
        expect([await counters(), await fileCount(), await f.stored()]).toEqual([[0, 0, 0], 0, []]);
        const ok = data(600 * KiB);
        await storeUpload(deps, alice, { name: "ok", parentId: "", expectedSize: ok.length }, chunked(ok));
        expect(await counters()).toEqual([600 * KiB, 0, 0]);
      });

      test("a small announced body (no hold first) over the quota is refused at its record, nothing left", async () => {
        await storeUpload(deps, alice, { name: "most", parentId: "" }, chunked(data(1000 * KiB)));
        const stored = await f.stored();
        const small = data(SMALL_UPLOAD_BYTES / 16, 5);
        const err = await storeUpload(
          deps,
          alice,
          { name: "small", parentId: "", expectedSize: small.length },
          chunked(small),
        ).catch((e: unknown) => ConnectError.from(e));
        expect(reasonOf(err)).toBe(Reason.QUOTA_EXCEEDED);
        expect([await counters(), await fileCount(), await f.stored()]).toEqual([
          [1000 * KiB, 0, 0],
          1,
          stored,
        ]);
      });

      test("a body of unknown length is cut off at the limit, nothing left behind", async () => {
        await storeUpload(deps, alice, { name: "first", parentId: "" }, chunked(data(300 * KiB)));
        expect(await counters()).toEqual([300 * KiB, 0, 0]);
        const stored = await f.stored();
        const over = await outcome(
          storeUpload(deps, alice, { name: "over", parentId: "" }, chunked(data(800 * KiB, 2))),
        );
        expect(over).toBe(REFUSED);
        expect([await counters(), await fileCount(), await f.stored()]).toEqual([
          [300 * KiB, 0, 0],
          1,
          stored,
        ]);
        // Exactly up to the quota still fits.
        await storeUpload(deps, alice, { name: "rest", parentId: "" }, chunked(data(724 * KiB, 3)));
        expect(await counters()).toEqual([1024 * KiB, 0, 0]);
      });

      test("20 parallel single uploads: exactly the ones that fit succeed", async () => {
        const bodies = Array.from({ length: 20 }, (_, i) => data(100 * KiB, i + 10));
        const results = await Promise.all(
          bodies.map((b, i) =>
            outcome(
              storeUpload(deps, alice, { name: `p${i}`, parentId: "", expectedSize: b.length }, chunked(b)),
            ),
          ),
        );
        expect(results.filter((r) => r === "ok").length).toBe(10);
        expect(results.filter((r) => r === REFUSED).length).toBe(10);
        expect([await counters(), await fileCount(), (await f.stored()).length]).toEqual([
          [1000 * KiB, 0, 0],
          10,
          10,
        ]);
      });

      test("20 parallel sessions: exactly the ones that fit; completion charges, abort and expiry release", async () => {
        const created = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            sessions
              .createSession(deps, alice, { name: `s${i}`, parentId: "", size: BigInt(150 * KiB) })
              .then(
                (s) => s,
                (e: unknown) => outcome(Promise.reject(e)),
              ),
          ),
        );
        const open = created.filter((s) => typeof s !== "string");
        expect(open.length).toBe(6);
        expect(created.filter((s) => s === REFUSED).length).toBe(14);
        expect(await counters()).toEqual([0, 900 * KiB, 0]);
        const [a, b, c] = open;
        if (!a || !b || !c) throw new Error("sessions expected");
        const body = data(150 * KiB, 7);
        const part = Number(a.partSize);
        for (let n = 1; n <= a.partCount; n++)
          await sessions.putPart(deps, alice, a.id, n, chunked(body.subarray((n - 1) * part, n * part)));
        await sessions.completeSession(deps, alice, a.id);
        await sessions.abortSession(deps, alice, b.id);
        expect(await counters()).toEqual([150 * KiB, 600 * KiB, 0]);
        // The rest expire: the sweeper releases them.
        await db.updateTable("upload_sessions").set({ expires_at: 1 }).where("state", "=", "open").execute();
        await sessions.sweepSessions(deps);
        expect(await counters()).toEqual([150 * KiB, 0, 0]);
        // A session that does not fit any more is refused, one that does is not.
        expect(
          await outcome(
            sessions.createSession(deps, alice, { name: "x", parentId: "", size: BigInt(900 * KiB) }),
          ),
        ).toBe(REFUSED);
        await sessions.createSession(deps, alice, { name: "y", parentId: "", size: BigInt(874 * KiB) });
      });

      test("instant uploads (proof and by SHA-1) are charged in full and refused past the quota", async () => {
        const bob = await f.user("bob");
        const content = data(400 * KiB, 9);
        await storeUpload(deps, bob, { name: "src", parentId: "", sha1: true }, chunked(content));
        const sha1 = new Bun.CryptoHasher("sha1").update(content).digest("hex");
        const prove = async (name: string) => {
          const ch = await offerContent(deps, alice, {
            sha256: sha256(content),
            size: BigInt(content.length),
            name,
            parentId: "",
          });
          const range = content.subarray(Number(ch.rangeStart), Number(ch.rangeStart + ch.rangeLength));
          return proveContent(deps, alice, { challengeId: ch.challengeId, rangeSha256: sha256(range) });
        };
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(prove(`i${i}`))));
        expect(results.filter((r) => r === "ok").length).toBe(2);
        expect(results.filter((r) => r === REFUSED).length).toBe(3);
        expect(await counters()).toEqual([800 * KiB, 0, 0]);
        // By SHA-1 (the legacy fast upload of content alice holds): charged too, refused when over.
        const again = await outcome(linkBySha1(deps, alice, { sha1, size: 0n, name: "dup", parentId: "" }));
        expect(again).toBe(REFUSED);
        await setQuota(db, alice.userId, 0);
        await linkBySha1(deps, alice, { sha1, size: 0n, name: "dup", parentId: "" });
        expect(await counters()).toEqual([1200 * KiB, 0, 0]);
      });

      test("an instant offer the caller cannot afford is refused up front; the proof still charges atomically", async () => {
        const bob = await f.user("bob");
        const content = data(400 * KiB, 11);
        await storeUpload(deps, bob, { name: "src", parentId: "", sha1: true }, chunked(content));
        await storeUpload(
          deps,
          alice,
          { name: "mine", parentId: "", sha1: true },
          chunked(data(700 * KiB, 12)),
        );
        const offer = (name: string) =>
          offerContent(deps, alice, {
            sha256: sha256(content),
            size: BigInt(content.length),
            name,
            parentId: "",
          });
        // 700 KiB used of 1024: 400 more do not fit. Refused at the offer, with the usual metadata.
        const err = await offer("late").then(
          () => undefined,
          (e) => ConnectError.from(e),
        );
        expect(err && [Code[err.code], reasonOf(err)]).toEqual(["ResourceExhausted", Reason.QUOTA_EXCEEDED]);
        const info = err?.findDetails(ErrorInfoSchema)[0];
        expect(info?.metadata).toEqual({
          used: String(700 * KiB),
          quota: String(1024 * KiB),
          needed: String(400 * KiB),
        });
        expect(err?.rawMessage).toStartWith("quota exceeded: ");
        // Content that fits is offered; usage growing before the proof still refuses at the charge.
        await setQuota(db, alice.userId, 1200 * KiB);
        const ch = await offer("raced");
        await storeUpload(
          deps,
          alice,
          { name: "more", parentId: "", sha1: true },
          chunked(data(200 * KiB, 13)),
        );
        const range = content.subarray(Number(ch.rangeStart), Number(ch.rangeStart + ch.rangeLength));
        const proof = { challengeId: ch.challengeId, rangeSha256: sha256(range) };
        expect(await outcome(proveContent(deps, alice, proof))).toBe(REFUSED);
        expect(await counters()).toEqual([900 * KiB, 0, 0]);
        expect(await fileCount()).toBe(2);
        // Unlimited: offered and linked.
        await setQuota(db, alice.userId, 0);
        const ok = await offer("fine");
        const r2 = content.subarray(Number(ok.rangeStart), Number(ok.rangeStart + ok.rangeLength));
        await proveContent(deps, alice, { challengeId: ok.challengeId, rangeSha256: sha256(r2) });
        expect(await counters()).toEqual([1300 * KiB, 0, 0]);
      });
    });
  }
