// Upload sessions in the database: the completion lease (take over a completion whose holder stopped
// renewing it; the file and the completed session recorded together, only by the holder), the folder
// check at creation, and the limits checked when a session is created. On SQLite and MariaDB.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { aliceAndBob, sessionRows } from "./testing.ts";
import * as trashing from "./trash.ts";
import * as uploads from "./uploads.ts";
import * as store from "./users.ts";

const MiB = 1024 * 1024;
const LEASE = 1000;

for (const target of testDatabases()) {
  describe(`upload session lease and limits on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      ({ alice, bob } = await aliceAndBob(db));
    });
    afterAll(() => drop());

    const session = sessionRows("lease");
    const blob = (c: string) => ({
      sha256: c.repeat(64),
      sha1: "",
      size: 12 * MiB,
      backend: "local",
      location: `blobs/${c}`,
    });
    const filesNamed = (name: string) =>
      db.selectFrom("files").select("id").where("name", "=", name).execute();

    test("a live holder keeps the completion; one that stopped renewing is taken over and can record nothing", async () => {
      const s = await uploads.createSession(db, session(alice));
      expect(await uploads.takeCompletion(db, s.id, "attempt-a", LEASE, 10)).toEqual({ done: true });
      expect((await uploads.takeCompletion(db, s.id, "attempt-b", LEASE, 900)).done).toBe(false);
      expect(await uploads.renewCompletion(db, s.id, "attempt-a", 900)).toBe(true);
      expect((await uploads.takeCompletion(db, s.id, "attempt-b", LEASE, 1800)).done).toBe(false);
      expect(await uploads.takeCompletion(db, s.id, "attempt-b", LEASE, 1900)).toEqual({
        done: true,
        previousOwner: "attempt-a",
      });
      expect(await uploads.renewCompletion(db, s.id, "attempt-a", 1901)).toBe(false);
      const row = await uploads.findSession(db, s.id, alice);
      expect([row?.state, row?.completion_owner, row?.completing_since]).toEqual([
        "completing",
        "attempt-b",
        1900,
      ]);

      // The dead attempt's file never appears: its transaction rolls back whole.
      const lost = content.addFileWithContent(
        db,
        { ownerId: alice, parentId: "", name: "lease-lost" },
        blob("a"),
        2000,
        { within: (tx, f) => uploads.completeWithin(tx, s.id, "attempt-a", f.id) },
      );
      expect(await lost.catch((e) => e)).toBeInstanceOf(uploads.CompletionLostError);
      expect(await filesNamed("lease-lost")).toEqual([]);
      expect(await content.findBlob(db, "a".repeat(64))).toBeUndefined();

      const { file } = await content.addFileWithContent(
        db,
        { ownerId: alice, parentId: "", name: "lease-won" },
        blob("b"),
        2000,
        { within: (tx, f) => uploads.completeWithin(tx, s.id, "attempt-b", f.id) },
      );
      const done = await uploads.findSession(db, s.id, alice);
      expect([done?.state, done?.file_id, done?.completion_owner]).toEqual(["completed", file.id, null]);
      expect((await uploads.takeCompletion(db, s.id, "attempt-c", LEASE, 9000)).done).toBe(false);
    });

    test("a part after a dead completion reopens the session (naming the dead attempt); not while it lives", async () => {
      const s = await uploads.createSession(db, session(alice));
      await uploads.takeCompletion(db, s.id, "attempt-a", LEASE, 10);
      expect(await uploads.reopenStale(db, s.id, LEASE, 500)).toEqual({ done: false });
      expect(
        await uploads.recordPart(
          db,
          { session_id: s.id, part_number: 1, size: 1, sha256: "", created_at: 1 },
          500,
        ),
      ).toBe(false);
      expect(await uploads.reopenStale(db, s.id, LEASE, 1010)).toEqual({
        done: true,
        previousOwner: "attempt-a",
      });
      expect(
        await uploads.recordPart(
          db,
          { session_id: s.id, part_number: 1, size: 1, sha256: "", created_at: 1 },
          1010,
        ),
      ).toBe(true);
      // A holder's own reopen (verification failed) is only its own.
      await uploads.takeCompletion(db, s.id, "attempt-b", LEASE, 1100);
      expect(await uploads.reopen(db, s.id, "attempt-a")).toBe(false);
      expect(await uploads.reopen(db, s.id, "attempt-b")).toBe(true);
    });

    test("resume finds a session whose completion stopped; an expired one is not taken over", async () => {
      const s = await uploads.createSession(db, session(bob, { size: 77 }));
      await uploads.takeCompletion(db, s.id, "attempt-a", LEASE, 10);
      const q = { ownerId: bob, size: 77, sha256: null, sha1: null };
      expect((await uploads.findOpenSession(db, q, 20))?.id).toBe(s.id);
      expect((await uploads.takeCompletion(db, s.id, "attempt-b", LEASE, 1_000_000)).done).toBe(false);
    });

    test("a session goes into one of the owner's active folders only", async () => {
      const folder = await files.createFolder(db, { ownerId: alice, parentId: "", name: "lease-folder" }, 1);
      const mine = await uploads.openSession(db, session(alice, { parent_id: folder.id }), {});
      expect("refused" in mine).toBe(false);
      for (const [owner, parent] of [
        [bob, folder.id],
        [alice, "00000000-0000-4000-8000-000000000000"],
      ] as const) {
        const err = await uploads.openSession(db, session(owner, { parent_id: parent }), {}).catch((e) => e);
        expect(err).toBeInstanceOf(content.FolderNotFoundError);
      }
      await trashing.trashFile(db, alice, folder.id, 2);
      const trashed = await uploads
        .openSession(db, session(alice, { parent_id: folder.id }), {})
        .catch((e) => e);
      expect(trashed).toBeInstanceOf(content.FolderNotFoundError);
    });

    test("the owner's open sessions are capped; finished, aborted and expired ones do not count", async () => {
      const carol = (await store.createUser(db, `carol${target.dialect}`, "x", 0)).id;
      const open = (over: Partial<uploads.SessionRow> = {}) =>
        uploads.openSession(db, session(carol, { created_at: 100, ...over }), { maxOpen: 2 });
      const first = (await open()) as uploads.SessionRow;
      await open({ expires_at: 50 }); // already expired: ignored from the start
      expect("refused" in (await open())).toBe(false);
      expect(await open()).toEqual({ refused: "too_many_open_sessions" });
      expect("refused" in (await open({ owner_id: bob }))).toBe(false); // someone else's cap
      await uploads.abortSession(db, first.id);
      expect("refused" in (await open())).toBe(false);
      expect(await open()).toEqual({ refused: "too_many_open_sessions" });
    });

    test("free space: live sessions of the backend count what they declared and have not stored yet", async () => {
      const dave = (await store.createUser(db, `dave${target.dialect}`, "x", 0)).id;
      const backend = `disk-${target.dialect}`; // this test's own backend: other tests' sessions do not count
      const open = (size: number, availableBytes: number) =>
        uploads.openSession(db, session(dave, { size, backend, created_at: 100 }), { availableBytes });
      const a = (await open(10 * MiB, 15 * MiB)) as uploads.SessionRow;
      expect(await open(6 * MiB, 15 * MiB)).toEqual({ refused: "storage_full" });
      // 5 MiB of the first session arrived (and so are no longer free): 5 MiB + 5 MiB promised fit in 11.
      await uploads.recordPart(
        db,
        { session_id: a.id, part_number: 1, size: 5 * MiB, sha256: "", created_at: 1 },
        100,
      );
      expect("refused" in (await open(5 * MiB, 11 * MiB))).toBe(false);
      expect(await open(2 * MiB, 11 * MiB)).toEqual({ refused: "storage_full" });
      expect(await open(20 * MiB, 15 * MiB)).toEqual({ refused: "storage_full" });
      // On another backend, or with nothing to check (S3), these sessions do not matter.
      expect("refused" in (await uploads.openSession(db, session(dave, { size: 6 * MiB }), {}))).toBe(false);
    });
  });
}
