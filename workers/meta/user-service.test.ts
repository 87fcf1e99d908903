// UserService over an in-memory transport with the real interceptors: its argument checks and the codes
// its errors map to (the logic itself is tested in users.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { Db } from "../lib/db/database.ts";
import { testDatabases } from "../lib/db/testing.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { codeOf as code } from "../lib/testing.ts";
import { metaTestClient } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

for (const target of testDatabases()) {
  describe(`UserService on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let meta: MetaClient;
    const clock = 1_000_000;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      meta = metaTestClient(db, () => clock);
    });
    afterAll(() => drop());

    test("users: created once per name, found by id or name", async () => {
      const user = (await meta.createUser({ username: "carol", passwordHash: "h" })).user;
      expect([user?.username, user?.passwordHash, user?.createdAt]).toEqual([
        "carol",
        "h",
        timestampFromMs(clock),
      ]);
      expect(await code(meta.createUser({ username: "carol", passwordHash: "h" }))).toBe(Code.AlreadyExists);
      expect(await code(meta.createUser({ username: "", passwordHash: "h" }))).toBe(Code.InvalidArgument);
      const byId = await meta.getUser({ key: { case: "id", value: user?.id ?? "" } });
      const byName = await meta.getUser({ key: { case: "username", value: "carol" } });
      expect([byId.user?.id, byName.user?.id]).toEqual([user?.id, user?.id]);
      expect(await code(meta.getUser({ key: { case: "username", value: "nobody" } }))).toBe(Code.NotFound);
      expect(await code(meta.getUser({}))).toBe(Code.InvalidArgument);
      expect(await code(meta.touchUser({ id: "" }))).toBe(Code.InvalidArgument);
    });

    test("refresh tokens: checked hashes and session ids; a replay is Unauthenticated and revokes the session", async () => {
      const userId = (await meta.createUser({ username: "dave", passwordHash: "h" })).user?.id ?? "";
      const expiresAt = timestampFromMs(clock + 60_000);
      const sessionId = crypto.randomUUID();
      for (const bad of [
        { userId, tokenHash: "A".repeat(64), expiresAt },
        { userId, tokenHash: h64("1"), expiresAt, sessionId: "not-a-uuid" },
        { userId, tokenHash: h64("1") },
      ])
        expect(await code(meta.createRefreshToken(bad))).toBe(Code.InvalidArgument);
      await meta.createRefreshToken({ userId, tokenHash: h64("1"), expiresAt, sessionId });
      const rotated = await meta.rotateRefreshToken({
        tokenHash: h64("1"),
        newTokenHash: h64("2"),
        newExpiresAt: expiresAt,
      });
      expect([rotated.userId, rotated.sessionId]).toEqual([userId, sessionId]);
      expect(
        await code(
          meta.rotateRefreshToken({ tokenHash: h64("1"), newTokenHash: h64("3"), newExpiresAt: expiresAt }),
        ),
      ).toBe(Code.Unauthenticated);
      expect(
        await code(
          meta.rotateRefreshToken({ tokenHash: h64("9"), newTokenHash: h64("8"), newExpiresAt: expiresAt }),
        ),
      ).toBe(Code.Unauthenticated);
      const revoked = await meta.listRevokedSessions({});
      expect(revoked.sessions.map((s) => s.sessionId)).toContain(sessionId);
      expect(revoked.now).toEqual(timestampFromMs(clock));
      expect((await meta.revokeRefreshToken({ tokenHash: h64("7") })).revoked).toBe(false);
      expect(await code(meta.revokeRefreshToken({ tokenHash: "x" }))).toBe(Code.InvalidArgument);
    });
  });
}
