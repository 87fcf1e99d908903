import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as store from "./users.ts";

const HOUR = 3_600_000;
const hash = (n: number) => n.toString(16).padStart(64, "0");

for (const target of testDatabases()) {
  describe(`meta store on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
    });
    afterAll(() => drop());

    test("creates and finds users by id and case-insensitive name", async () => {
      const u = await store.createUser(db, "Alice", "phc", 1_000);
      // The row also carries the quota columns (migration 0016), which createUser leaves to their defaults.
      expect(await store.findUser(db, { id: u.id })).toMatchObject(u);
      expect(await store.findUser(db, { username: "aLiCe" })).toMatchObject(u);
      expect(await store.findUser(db, { username: "nobody" })).toBeUndefined();
    });

    test("duplicate usernames (any case) are refused and write nothing", async () => {
      await store.createUser(db, "bob", "phc", 1_000);
      await expect(store.createUser(db, "BOB", "other", 2_000)).rejects.toBeInstanceOf(
        store.DuplicateUsernameError,
      );
      const rows = await db.selectFrom("users").selectAll().where("username_key", "=", "bob").execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.password_hash).toBe("phc");
    });

    test("touch updates last activity", async () => {
      const u = await store.createUser(db, "carol", "phc", 1_000);
      await store.touchUser(db, u.id, 5_000);
      expect((await store.findUser(db, { id: u.id }))?.last_active_at).toBe(5_000);
    });

    test("refresh tokens rotate once; a replay revokes the whole family", async () => {
      const u = await store.createUser(db, "dave", "phc", 0);
      const familyId = crypto.randomUUID();
      await store.createRefreshToken(
        db,
        { userId: u.id, tokenHash: hash(1), expiresAt: 10 * HOUR, familyId },
        0,
      );
      expect(
        await store.rotateRefreshToken(db, hash(1), { tokenHash: hash(2), expiresAt: 10 * HOUR }, 1),
      ).toEqual({
        userId: u.id,
        sessionId: familyId,
      });
      // Replaying token 1 fails and kills token 2 (same family).
      await expect(
        store.rotateRefreshToken(db, hash(1), { tokenHash: hash(3), expiresAt: 10 * HOUR }, 2),
      ).rejects.toBeInstanceOf(store.TokenReplayError);
      await expect(
        store.rotateRefreshToken(db, hash(2), { tokenHash: hash(4), expiresAt: 10 * HOUR }, 3),
      ).rejects.toBeInstanceOf(store.TokenReplayError);
      const hashes = (await db.selectFrom("refresh_tokens").select("token_hash").execute()).map(
        (r) => r.token_hash,
      );
      expect(hashes).not.toContain(hash(3));
      expect(hashes).not.toContain(hash(4));
    });

    test("expired and unknown refresh tokens are invalid", async () => {
      const u = await store.createUser(db, "erin", "phc", 0);
      await store.createRefreshToken(db, { userId: u.id, tokenHash: hash(10), expiresAt: 100 }, 0);
      await expect(
        store.rotateRefreshToken(db, hash(10), { tokenHash: hash(11), expiresAt: HOUR }, 100),
      ).rejects.toBeInstanceOf(store.TokenInvalidError);
      await expect(
        store.rotateRefreshToken(db, hash(99), { tokenHash: hash(12), expiresAt: HOUR }, 1),
      ).rejects.toBeInstanceOf(store.TokenInvalidError);
    });

    test("concurrent rotations of one token: exactly one wins", async () => {
      const u = await store.createUser(db, "frank", "phc", 0);
      await store.createRefreshToken(db, { userId: u.id, tokenHash: hash(20), expiresAt: HOUR }, 0);
      const results = await Promise.allSettled(
        [21, 22, 23, 24].map((n) =>
          store.rotateRefreshToken(db, hash(20), { tokenHash: hash(n), expiresAt: HOUR }, 1),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    });

    test("revoking a token revokes its family; unknown tokens report false", async () => {
      const u = await store.createUser(db, "grace", "phc", 0);
      await store.createRefreshToken(db, { userId: u.id, tokenHash: hash(30), expiresAt: HOUR }, 0);
      await store.rotateRefreshToken(db, hash(30), { tokenHash: hash(31), expiresAt: HOUR }, 1);
      expect(await store.revokeRefreshToken(db, hash(30), 2)).toBe(true);
      await expect(
        store.rotateRefreshToken(db, hash(31), { tokenHash: hash(32), expiresAt: HOUR }, 3),
      ).rejects.toBeInstanceOf(store.TokenReplayError);
      expect(await store.revokeRefreshToken(db, hash(77), 2)).toBe(false);
    });

    test("signout and replay record the session as revoked, listed until its revocation expires", async () => {
      const u = await store.createUser(db, "heidi", "phc", 0);
      const [signedOut, replayed, live] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      for (const [n, familyId] of [
        [40, signedOut],
        [50, replayed],
        [60, live],
      ] as const)
        await store.createRefreshToken(
          db,
          { userId: u.id, tokenHash: hash(n), expiresAt: 10 * HOUR, familyId },
          0,
        );
      const before = await store.listRevokedSessions(db, 0, 1_000);

      expect(await store.revokeRefreshToken(db, hash(40), 1_000, 1_000 + HOUR)).toBe(true);
      await store.rotateRefreshToken(
        db,
        hash(50),
        { tokenHash: hash(51), expiresAt: 10 * HOUR },
        2_000,
        2_000 + HOUR,
      );
      await expect(
        store.rotateRefreshToken(
          db,
          hash(50),
          { tokenHash: hash(52), expiresAt: 10 * HOUR },
          3_000,
          3_000 + HOUR,
        ),
      ).rejects.toBeInstanceOf(store.TokenReplayError);

      const mine = <T extends { sessionId: string }>(rows: T[]) =>
        rows.filter((r) => [signedOut, replayed, live].some((id) => id === r.sessionId));
      expect(mine(before)).toEqual([]);
      const all = mine(await store.listRevokedSessions(db, 0, 3_000));
      expect(all.sort((a, b) => a.expiresAt - b.expiresAt)).toEqual([
        { sessionId: signedOut, expiresAt: 1_000 + HOUR },
        { sessionId: replayed, expiresAt: 3_000 + HOUR },
      ]);
      // Since a time: only what was revoked at or after it.
      expect(mine(await store.listRevokedSessions(db, 2_000, 3_000))).toEqual([
        { sessionId: replayed, expiresAt: 3_000 + HOUR },
      ]);
      // A second revocation of an ended session changes nothing; expired revocations are no longer listed.
      expect(await store.revokeRefreshToken(db, hash(51), 4_000, 4_000 + 5 * HOUR)).toBe(true);
      expect(mine(await store.listRevokedSessions(db, 0, 1_000 + HOUR))).toEqual([
        { sessionId: replayed, expiresAt: 3_000 + HOUR },
      ]);
      expect(mine(await store.listRevokedSessions(db, 0, 3_000 + HOUR))).toEqual([]);
    });

    test("UTF-8 usernames round-trip byte-exact in storage", async () => {
      // The account service restricts names to ASCII, but the store must not mangle what it is given.
      const u = await store.createUser(db, "名前-émoji😀", "phc", 0);
      expect((await store.findUser(db, { id: u.id }))?.username).toBe("名前-émoji😀");
    });
  });
}
