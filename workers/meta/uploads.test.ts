import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as parts from "./part-sizes.ts";
import { aliceAndBob, sessionRows } from "./testing.ts";
import * as uploads from "./uploads.ts";

const MiB = 1024 * 1024;

describe("part sizing", () => {
  test.each([
    [0, 8 * MiB, 1],
    [1, 8 * MiB, 1],
    [8 * MiB + 1, 8 * MiB, 2],
    [256 * MiB, 8 * MiB, 32],
    [512 * MiB, 16 * MiB, 32],
    [1024 * MiB, 32 * MiB, 32],
    [4 * 1024 * MiB + 1, 64 * MiB, 65],
    [100 * 1024 * MiB, 64 * MiB, 1600],
    [1024 * 1024 * MiB, 105 * MiB, 9987],
    [5 * 1024 * 1024 * MiB, 525 * MiB, 9987],
  ])("%d bytes → parts of %d, %d parts (never more than 10 000)", (size, partSize, count) => {
    expect(parts.partSizeFor(size)).toBe(partSize);
    expect(parts.partCountFor(size, partSize)).toBe(count);
    expect(count).toBeLessThanOrEqual(parts.MAX_PARTS);
  });

  test("a part size asked for is kept, unless 10 000 parts would not do", () => {
    expect(parts.partSizeFor(1024 * MiB, { requested: 5 * MiB })).toBe(5 * MiB);
    expect(parts.partSizeFor(100 * 1024 * MiB, { requested: 5 * MiB })).toBe(11 * MiB);
  });

  test("a lower floor for small files (tests use 64 KiB parts)", () => {
    expect(parts.partSizeFor(300 * 1024, { min: 64 * 1024 })).toBe(64 * 1024);
  });
});

for (const target of testDatabases()) {
  describe(`upload sessions on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      ({ alice, bob } = await aliceAndBob(db));
    });
    afterAll(() => drop());

    const sessionRow = sessionRows("sess");
    const session = (ownerId: string, expiresAt = 1_000_000) =>
      sessionRow(ownerId, { expires_at: expiresAt });
    const part = (sessionId: string, n: number, sha = "a") => ({
      session_id: sessionId,
      part_number: n,
      size: 5 * MiB,
      sha256: sha.repeat(64),
      created_at: 1,
    });

    test("a session belongs to its owner only", async () => {
      const s = await uploads.createSession(db, session(alice));
      expect((await uploads.findSession(db, s.id, alice))?.id).toBe(s.id);
      expect(await uploads.findSession(db, s.id, bob)).toBeUndefined();
    });

    test("parts in any order, re-sent parts replace, listed in order", async () => {
      const s = await uploads.createSession(db, session(alice));
      for (const n of [3, 1, 2]) expect(await uploads.recordPart(db, part(s.id, n), 5)).toBe(true);
      expect(await uploads.recordPart(db, part(s.id, 2, "b"), 6)).toBe(true);
      const parts = await uploads.listParts(db, s.id);
      expect(parts.map((p) => p.part_number)).toEqual([1, 2, 3]);
      expect(parts[1]?.sha256).toBe("b".repeat(64));
    });

    test("completion happens once; a failed one can be retried; completed sessions take no parts", async () => {
      const s = await uploads.createSession(db, session(alice));
      expect(await uploads.beginCompletion(db, s.id, 5)).toBe(true);
      expect(await uploads.beginCompletion(db, s.id, 5)).toBe(false);
      await uploads.reopen(db, s.id);
      expect(await uploads.beginCompletion(db, s.id, 6)).toBe(true);
      await uploads.markCompleted(db, s.id, "file-1");
      const done = await uploads.findSession(db, s.id, alice);
      expect([done?.state, done?.file_id]).toEqual(["completed", "file-1"]);
      expect(await uploads.recordPart(db, part(s.id, 1), 7)).toBe(false);
      expect(await uploads.abortSession(db, s.id)).toBe(false);
    });

    test("expired sessions take no parts, cannot complete, and are found by the sweeper", async () => {
      const s = await uploads.createSession(db, session(alice, 100));
      expect(await uploads.recordPart(db, part(s.id, 1), 100)).toBe(false);
      expect(await uploads.beginCompletion(db, s.id, 100)).toBe(false);
      expect((await uploads.expiredSessions(db, 100)).map((x) => x.id)).toContain(s.id);
      await uploads.deleteSession(db, s.id);
      expect(await uploads.findSession(db, s.id, alice)).toBeUndefined();
    });

    test("abort: aborted sessions take no parts and are swept", async () => {
      const s = await uploads.createSession(db, session(alice));
      await uploads.recordPart(db, part(s.id, 1), 5);
      expect(await uploads.abortSession(db, s.id)).toBe(true);
      expect(await uploads.recordPart(db, part(s.id, 2), 6)).toBe(false);
      expect((await uploads.expiredSessions(db, 2_000_000)).map((x) => x.id)).toContain(s.id);
    });
  });
}
