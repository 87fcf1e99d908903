// UserService over an in-memory transport with the real interceptors: its argument checks and the codes
// its errors map to (the logic itself is tested in users.test.ts).
import { describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

for (const target of testDatabases()) {
  describe(`UserService on ${target.dialect}`, () => {
    const clock = 1_000_000;
    const s = metaSuite(target, () => clock, "alice");

    test("users: created once per name, found by id or name", async () => {
      const user = (await s.meta.createUser({ username: "carol", passwordHash: "h" })).user;
      expect([user?.username, user?.passwordHash, user?.createdAt]).toEqual([
        "carol",
        "h",
        timestampFromMs(clock),
      ]);
      expect(await code(s.meta.createUser({ username: "carol", passwordHash: "h" }))).toBe(
        Code.AlreadyExists,
      );
      expect(await code(s.meta.createUser({ username: "", passwordHash: "h" }))).toBe(Code.InvalidArgument);
      const byId = await s.meta.getUser({ key: { case: "id", value: user?.id ?? "" } });
      const byName = await s.meta.getUser({ key: { case: "username", value: "carol" } });
      expect([byId.user?.id, byName.user?.id]).toEqual([user?.id, user?.id]);
      expect(await code(s.meta.getUser({ key: { case: "username", value: "nobody" } }))).toBe(Code.NotFound);
      expect(await code(s.meta.getUser({}))).toBe(Code.InvalidArgument);
      expect(await code(s.meta.touchUser({ id: "" }))).toBe(Code.InvalidArgument);
    });

    test("refresh tokens: checked hashes and session ids; a replay is Unauthenticated and revokes the session", async () => {
      const userId = (await s.meta.createUser({ username: "dave", passwordHash: "h" })).user?.id ?? "";
      const expiresAt = timestampFromMs(clock + 60_000);
      const sessionId = crypto.randomUUID();
      for (const bad of [
        { userId, tokenHash: "A".repeat(64), expiresAt },
        { userId, tokenHash: h64("1"), expiresAt, sessionId: "not-a-uuid" },
        { userId, tokenHash: h64("1") },
      ])
        expect(await code(s.meta.createRefreshToken(bad))).toBe(Code.InvalidArgument);
      await s.meta.createRefreshToken({ userId, tokenHash: h64("1"), expiresAt, sessionId });
      const rotated = await s.meta.rotateRefreshToken({
        tokenHash: h64("1"),
        newTokenHash: h64("2"),
        newExpiresAt: expiresAt,
      });
      expect([rotated.userId, rotated.sessionId]).toEqual([userId, sessionId]);
      expect(
        await code(
          s.meta.rotateRefreshToken({ tokenHash: h64("1"), newTokenHash: h64("3"), newExpiresAt: expiresAt }),
        ),
      ).toBe(Code.Unauthenticated);
      expect(
        await code(
          s.meta.rotateRefreshToken({ tokenHash: h64("9"), newTokenHash: h64("8"), newExpiresAt: expiresAt }),
        ),
      ).toBe(Code.Unauthenticated);
      const revoked = await s.meta.listRevokedSessions({});
      expect(revoked.sessions.map((s) => s.sessionId)).toContain(sessionId);
      expect(revoked.now).toEqual(timestampFromMs(clock));
      expect((await s.meta.revokeRefreshToken({ tokenHash: h64("7") })).revoked).toBe(false);
      expect(await code(s.meta.revokeRefreshToken({ tokenHash: "x" }))).toBe(Code.InvalidArgument);
    });
  });
}
