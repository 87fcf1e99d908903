// Multipart sessions into a drop link, on SQLite and MariaDB with a local blob store, through the drop
// session routes (Request in, Response out): a guest's session lands in the owner's folder under a free
// name on the owner's quota (refused with QUOTA_EXCEEDED when it is full, 413 over max_file_bytes before
// any byte), a revoked link stops the next part, another visitor (or none) cannot see or touch the session,
// and an abort gives the reservation back.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { Identity } from "../../core/access-token.ts";
import { DROP_PATH, DROP_SESSION_KEY_HEADER, SHARE_TOKEN_HEADER } from "../../core/data-paths.ts";
import { Reason } from "../../core/reasons.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { errorResponse } from "../lib/http-auth.ts";
import { shareTokenKeyFrom, signShareToken } from "../lib/share-token.ts";
import type { Db } from "../meta/db/database.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { setQuota } from "../meta/quota.ts";
import { createSession } from "./create-session.ts";
import { DROP_SESSION_ROUTE, type DropSessionDeps, dropSessionCall } from "./drop-sessions.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";

const KiB = 1024;
const local = testBlobStores().filter((b) => b.backend === "local");
const data = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const shareKey = shareTokenKeyFrom("t".repeat(32));
// A fresh MariaDB database is migrated per suite: slow on a loaded machine.
setDefaultTimeout(60_000);
let users = 0;

interface Guest {
  shareId: string;
  token: string;
  version: number;
}

for (const backend of local)
  for (const database of testDatabases()) {
    describe(`drop link sessions on ${database.dialect}`, () => {
      let f: UploadFixture;
      let db: Db;
      let deps: DropSessionDeps;
      let alice: Identity;
      let inbox: string;
      let guest: Guest;
      const clock = { now: Date.now() };

      /** A drop link on `inbox` and a guest's token for it. */
      const dropLink = async (maxFileBytes = 0n, mode = "drop"): Promise<Guest> => {
        const { share } = await deps.meta.createShareRow({
          id: randomBytes(16).toString("base64url"),
          ownerId: alice.userId,
          targetId: inbox,
          mode,
          maxFileBytes,
        });
        const shareId = share?.id ?? "";
        const version = Number(share?.version ?? 0n);
        const token = await signShareToken(shareKey, { shareId, version }, clock.now + 900_000);
        return { shareId, token, version };
      };

      beforeAll(async () => {
        f = await openUploadFixture(backend, clock, database);
        db = f.db;
        deps = { ...f.deps, shareTokenKey: shareKey };
      });
      afterAll(() => f.close());
      // Each test: a new owner, folder and drop link.
      beforeEach(async () => {
        alice = await f.user(`owner${++users}`);
        const { folder } = await deps.meta.createFolder({
          ownerId: alice.userId,
          parentId: "",
          name: "inbox",
        });
        inbox = folder?.id ?? "";
        guest = await dropLink();
      });

      /** One call of the routes, as the worker answers it (errors as JSON with their status). */
      const call = async (
        method: string,
        path: string,
        g: Guest,
        opts: { key?: string; body?: BodyInit; headers?: Record<string, string> } = {},
      ) => {
        const req = new Request(`http://x${DROP_PATH}${g.shareId}/sessions${path}`, {
          method,
          body: opts.body,
          headers: {
            [SHARE_TOKEN_HEADER]: g.token,
            [DROP_SESSION_KEY_HEADER]: opts.key ?? "",
            ...opts.headers,
          },
        });
        const m = DROP_SESSION_ROUTE.exec(new URL(req.url).pathname);
        if (!m) throw new Error(`no route for ${path}`);
        const res = await dropSessionCall(deps, req, m).catch((err) => errorResponse(err, () => {}, { req }));
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : {} };
      };
      const create = (g: Guest, name: string, size: number, sha?: string) =>
        call("POST", "", g, { body: JSON.stringify({ name, size: String(size), sha256: sha }) });
      type Session = { sessionId: string; key: string; partSize: string; partCount: number };
      const putPart = (g: Guest, s: Session, n: number, bytes: Uint8Array) => {
        const size = Number(s.partSize);
        return call("PUT", `/${s.sessionId}/parts/${n}`, g, {
          key: s.key,
          body: bytes.slice((n - 1) * size, n * size),
        });
      };
      const names = async () =>
        (await deps.meta.listFiles({ ownerId: alice.userId, parentId: inbox })).files
          .map((x) => x.name)
          .sort();
      const counters = async () => {
        const r = await db
          .selectFrom("users")
          .select(["used_bytes", "reserved_bytes"])
          .where("id", "=", alice.userId)
          .executeTakeFirstOrThrow();
        return [Number(r.used_bytes), Number(r.reserved_bytes)];
      };

      test("a guest's session lands in the owner's folder under a free name, charged to the owner", async () => {
        const bytes = data(150 * KiB);
        const first = await create(guest, "video.bin", bytes.length, sha256(bytes));
        expect(first.status).toBe(201);
        const s = first.body as Session;
        // No presigned part URLs: every part passes the link check.
        expect(first.body.partUrl).toBe(`${DROP_PATH}${guest.shareId}/sessions/${s.sessionId}/parts/`);
        expect(first.body.presignedParts).toBeUndefined();
        expect(s.partCount).toBe(3);
        expect(await counters()).toEqual([0, bytes.length]);
        // Parts in any order, in parallel; the list shows what arrived (resume).
        await Promise.all([3, 1].map((n) => putPart(guest, s, n, bytes)));
        const listed = await call("GET", `/${s.sessionId}`, guest, { key: s.key });
        expect(listed.status).toBe(200);
        expect(listed.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 3]);
        expect((await putPart(guest, s, 2, bytes)).status).toBe(200);
        const done = await call("POST", `/${s.sessionId}/complete`, guest, { key: s.key });
        expect(done).toEqual({
          status: 201,
          body: { file: { name: "video.bin", size: String(bytes.length) } },
        });
        expect(await counters()).toEqual([bytes.length, 0]);
        // A second one of the same name: a suffix, the first kept.
        const again = (await create(guest, "video.bin", 10)).body as Session;
        await putPart(guest, again, 1, data(10, 2));
        const second = await call("POST", `/${again.sessionId}/complete`, guest, { key: again.key });
        expect(second.body).toEqual({ file: { name: "video (2).bin", size: "10" } });
        expect(await names()).toEqual(["video (2).bin", "video.bin"]);
        const stored = await deps.meta.listFiles({ ownerId: alice.userId, parentId: inbox });
        expect(stored.files.find((x) => x.name === "video.bin")?.blobSha256).toBe(sha256(bytes));
      });

      test("the owner's full quota refuses the session; max_file_bytes refuses it before any byte", async () => {
        await setQuota(db, alice.userId, 100 * KiB);
        const full = await create(guest, "big.bin", 150 * KiB);
        expect(full.status).toBe(507);
        expect(full.body.code).toBe("resource_exhausted");
        expect(JSON.stringify(full.body)).toContain(Reason.QUOTA_EXCEEDED);
        const capped = await dropLink(64n * 1024n);
        const over = await create(capped, "big.bin", 64 * KiB + 1);
        expect(over.status).toBe(413);
        expect(over.body.message).toBe(`this link takes files of at most ${64 * KiB} bytes`);
        expect(await counters()).toEqual([0, 0]);
        // At the cap it is taken.
        expect((await create(capped, "fits.bin", 64 * KiB)).status).toBe(201);
      });

      test("a revoked link stops the upload at its next part; an aborted session frees the reservation", async () => {
        const bytes = data(150 * KiB);
        const s = (await create(guest, "a.bin", bytes.length)).body as Session;
        expect((await putPart(guest, s, 1, bytes)).status).toBe(200);
        await deps.meta.deleteShareRow({ ownerId: alice.userId, id: guest.shareId });
        const next = await putPart(guest, s, 2, bytes);
        expect(next.status).toBe(404);
        expect(JSON.stringify(next.body)).toContain(Reason.SHARE_NOT_FOUND);
        expect((await call("POST", `/${s.sessionId}/complete`, guest, { key: s.key })).status).toBe(404);
        expect(await names()).toEqual([]);
        // Another link of the same folder: its guest may abort its own session only.
        const other = await dropLink();
        const mine = (await create(other, "b.bin", bytes.length)).body as Session;
        expect(await counters()).toEqual([0, 2 * bytes.length]);
        const aborted = await call("DELETE", `/${mine.sessionId}`, other, { key: mine.key });
        expect(aborted.status).toBe(204);
        expect(await counters()).toEqual([0, bytes.length]);
        const late = await putPart(other, mine, 1, bytes);
        expect([late.status, late.body.message]).toEqual([400, "the upload session was aborted"]);
      });

      test("another visitor, another link, a view link or no token cannot see or touch the session", async () => {
        const bytes = data(150 * KiB);
        const s = (await create(guest, "secret.bin", bytes.length)).body as Session;
        await putPart(guest, s, 1, bytes);
        // A second visitor of the same link has a token of their own, but not the session's key.
        const visitor = await dropLink();
        const sameLink: Guest = {
          ...guest,
          token: await signShareToken(shareKey, guest, clock.now + 60_000),
        };
        expect(sameLink.token).not.toBe(guest.token);
        const unknown = { status: 404, message: "no such upload session" };
        for (const [g, key] of [
          [sameLink, ""],
          [sameLink, `${s.key.slice(0, -2)}AA`],
          // The key of another link's session id does not open it through that link.
          [visitor, s.key],
        ] as const) {
          for (const [method, path] of [
            ["GET", `/${s.sessionId}`],
            ["PUT", `/${s.sessionId}/parts/2`],
            ["POST", `/${s.sessionId}/complete`],
            ["DELETE", `/${s.sessionId}`],
          ] as const) {
            const r = await call(method, path, g, {
              key,
              body: method === "PUT" ? bytes.slice(0, 64 * KiB) : undefined,
            });
            expect({ status: r.status, message: r.body.message }).toEqual(unknown);
          }
        }
        // No token, or a view link's: refused before the session is looked at.
        const noToken = await call("GET", `/${s.sessionId}`, { ...guest, token: "" }, { key: s.key });
        expect(noToken.status).toBe(401);
        expect(JSON.stringify(noToken.body)).toContain(Reason.SHARE_TOKEN_INVALID);
        const view = await dropLink(0n, "view");
        const viewed = await create(view, "x.bin", 1);
        expect(viewed.status).toBe(400);
        // The guest's own session is untouched: one part, and it completes once the rest arrives.
        const listed = await call("GET", `/${s.sessionId}`, guest, { key: s.key });
        expect(listed.body.parts.length).toBe(1);
        await Promise.all([2, 3].map((n) => putPart(guest, s, n, bytes)));
        expect((await call("POST", `/${s.sessionId}/complete`, guest, { key: s.key })).status).toBe(201);
        expect(await names()).toEqual(["secret.bin"]);
      });

      test("a session outlives the share token that created it; an edit of the link still ends it", async () => {
        const bytes = data(150 * KiB);
        const s = (await create(guest, "long.bin", bytes.length)).body as Session;
        expect((await putPart(guest, s, 1, bytes)).status).toBe(200);
        const start = clock.now;
        try {
          // The token (15 minutes) has expired: no new session with it, but this one goes on.
          clock.now += 20 * 60_000;
          const late = await create(guest, "other.bin", 10);
          expect([late.status, JSON.stringify(late.body).includes(Reason.SHARE_TOKEN_INVALID)]).toEqual([
            401,
            true,
          ]);
          expect((await putPart(guest, s, 2, bytes)).status).toBe(200);
          // The owner edits the link: tokens from before end, the session's calls too.
          await deps.meta.updateShareRow({
            ownerId: alice.userId,
            id: guest.shareId,
            maxFileBytes: 1n << 40n,
          });
          const next = await putPart(guest, s, 3, bytes);
          expect([next.status, JSON.stringify(next.body).includes(Reason.SHARE_TOKEN_INVALID)]).toEqual([
            401,
            true,
          ]);
        } finally {
          clock.now = start;
        }
      });

      test("visitors' sessions take their link's slots, not the owner's, and are never resumed by the owner", async () => {
        const saved = { owner: deps.maxOpenSessions, link: deps.maxOpenDropSessions };
        deps.maxOpenSessions = 1;
        deps.maxOpenDropSessions = 2;
        try {
          const bytes = data(12 * KiB, 7);
          const sum = sha256(bytes);
          const a = await create(guest, "a.bin", bytes.length, sum);
          const b = await create(guest, "b.bin", bytes.length, sum);
          expect([a.status, b.status]).toEqual([201, 201]);
          const full = await create(guest, "c.bin", bytes.length);
          expect(full.body.code).toBe("resource_exhausted");
          expect(full.body.message).toContain("SHARE_DROP_MAX_OPEN_SESSIONS");
          // Another link of the same owner has slots of its own.
          expect((await create(await dropLink(), "d.bin", 1)).status).toBe(201);
          // The owner's cap (1) still has its slot, and resume-by-content finds no visitor's session.
          const mine = {
            name: "mine.bin",
            parentId: inbox,
            size: BigInt(bytes.length),
            sha256: sum,
            resume: true,
          };
          const own = await createSession(deps, alice, mine);
          expect(own.resumed).toBeFalsy();
          expect(own.shareId).toBe("");
          expect([a.body.sessionId, b.body.sessionId]).not.toContain(own.id);
          const again = await createSession(deps, alice, mine);
          expect([again.id, again.resumed]).toEqual([own.id, true]);
          const second = createSession(deps, alice, { name: "more.bin", parentId: inbox, size: 1n });
          await expect(second).rejects.toThrow("UPLOAD_MAX_OPEN_SESSIONS_PER_USER");
          // A visitor's session is not reachable through the owner's key-less routes either: only its own link's.
          const stored = await deps.meta.getUploadSession({ id: a.body.sessionId, ownerId: alice.userId });
          expect(stored.session?.shareId).toBe(guest.shareId);
        } finally {
          deps.maxOpenSessions = saved.owner;
          deps.maxOpenDropSessions = saved.link;
        }
      });

      test("bad requests: no JSON, no size, a bad name, an unknown method", async () => {
        expect((await call("POST", "", guest, { body: "nope" })).status).toBe(400);
        expect((await call("POST", "", guest, { body: JSON.stringify({ name: "a" }) })).status).toBe(400);
        expect((await create(guest, "a/b", 1)).status).toBe(400);
        expect((await call("PUT", "", guest)).status).toBe(405);
        expect(await counters()).toEqual([0, 0]);
      });
    });
  }
