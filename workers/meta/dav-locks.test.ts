// DavLockService on both databases through the real interceptors: exclusive and shared locks conflict as
// RFC 4918 says (on the path, through a depth-infinity ancestor, and a depth-infinity request over locked
// members), locks expire and are refreshed, another user's token is never found, and moved or deleted
// paths lose their locks.
import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { codeOf } from "../lib/testing.ts";
import { DEFAULT_LOCK_SECONDS, MAX_LOCK_SECONDS } from "./dav-locks.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`DavLockService on ${target.dialect}`, () => {
    let clock = 1_000_000;
    const s = metaSuite(target, () => clock, "davlocks");
    const lock = (path: string, exclusive: boolean, deep = false, timeoutSeconds = 0) =>
      s.meta.createDavLock({ ownerId: s.ownerId, path, exclusive, deep, timeoutSeconds, ownerXml: "me" });
    const tokenOf = async (p: ReturnType<typeof lock>) => (await p).lock?.token ?? "";
    const paths = async (path: string, descendants = false) =>
      (await s.meta.listDavLocks({ ownerId: s.ownerId, path, descendants })).locks.map((l) => l.path).sort();

    test("a token is 128 random bits as opaquelocktoken; timeouts default and are capped", async () => {
      const a = (await lock("t/a", true)).lock;
      const b = (await lock("t/b", true, false, MAX_LOCK_SECONDS * 10)).lock;
      expect(a?.token).toMatch(
        /^opaquelocktoken:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(a?.token).not.toBe(b?.token);
      expect(a?.timeoutSeconds).toBe(DEFAULT_LOCK_SECONDS);
      expect(a?.expiresAtMs).toBe(BigInt(clock + DEFAULT_LOCK_SECONDS * 1000));
      expect(b?.timeoutSeconds).toBe(MAX_LOCK_SECONDS);
      expect(a?.ownerXml).toBe("me");
    });

    test("exclusive conflicts with anything on the path; shared locks share", async () => {
      await lock("x/file", true);
      const err = await lock("x/file", false).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
      expect(reasonOf(err)).toBe(Reason.LOCK_CONFLICT);
      expect(await codeOf(lock("x/file", true))).toBe(Code.FailedPrecondition);
      await lock("y/file", false);
      await lock("y/file", false);
      expect(await codeOf(lock("y/file", true))).toBe(Code.FailedPrecondition);
      // A sibling whose name starts with the locked one's is another path.
      await lock("x/file2", true);
      expect(await paths("y/file")).toEqual(["y/file", "y/file"]);
    });

    test("depth infinity covers members; a deep request conflicts with locked members", async () => {
      await lock("d", true, true);
      expect(await codeOf(lock("d/sub/f", true))).toBe(Code.FailedPrecondition);
      expect(await paths("d/sub/f")).toEqual(["d"]);
      // Depth 0 on a collection does not cover its members.
      await lock("e", true, false);
      await lock("e/f", true);
      expect(await codeOf(lock("e", false, true))).toBe(Code.FailedPrecondition);
      await lock("g/h/i", false);
      expect(await codeOf(lock("g", true, true))).toBe(Code.FailedPrecondition);
      await lock("g", false, true);
      expect(await paths("g")).toEqual(["g"]);
      expect(await paths("g", true)).toEqual(["g", "g/h/i"]);
      // The root's deep lock covers everything.
      expect(await codeOf(lock("", true, true))).toBe(Code.FailedPrecondition);
    });

    test("expired locks are ignored and swept; refresh restarts the timeout", async () => {
      const t = await tokenOf(lock("exp", true, false, 10));
      clock += 5_000;
      const refreshed = await s.meta.refreshDavLock({ ownerId: s.ownerId, token: t, timeoutSeconds: 0 });
      expect(refreshed.lock?.expiresAtMs).toBe(BigInt(clock + 10_000));
      clock += 8_000;
      expect(await paths("exp")).toEqual(["exp"]);
      clock += 3_000;
      expect(await paths("exp")).toEqual([]);
      expect(await codeOf(s.meta.refreshDavLock({ ownerId: s.ownerId, token: t }))).toBe(Code.NotFound);
      await lock("exp", true);
      const left = await s.db.selectFrom("dav_locks").select("token").where("token", "=", t).execute();
      expect(left).toEqual([]);
    });

    test("another user's token is not found; unlock and drop remove locks", async () => {
      const bob = (await s.meta.createUser({ username: "bob-locks", passwordHash: "x" })).user?.id ?? "";
      const t = await tokenOf(lock("mine", true));
      for (const call of [
        s.meta.refreshDavLock({ ownerId: bob, token: t }),
        s.meta.deleteDavLock({ ownerId: bob, token: t }),
      ])
        expect(await codeOf(call)).toBe(Code.NotFound);
      // Bob's tree is his own: the same path is free for him, and his list is empty of alice's.
      await s.meta.createDavLock({ ownerId: bob, path: "mine", exclusive: true });
      expect((await s.meta.listDavLocks({ ownerId: bob, path: "mine" })).locks).toHaveLength(1);
      expect((await s.meta.deleteDavLock({ ownerId: s.ownerId, token: t })).lock?.path).toBe("mine");
      expect(await codeOf(s.meta.deleteDavLock({ ownerId: s.ownerId, token: t }))).toBe(Code.NotFound);
      await lock("tree/a", true);
      await lock("tree/a/b", false);
      await lock("tree/ab", true);
      await s.meta.dropDavLocks({ ownerId: s.ownerId, path: "tree/a" });
      expect(await paths("tree", true)).toEqual(["tree/ab"]);
    });

    test("bad input is refused", async () => {
      for (const call of [
        lock("/abs", true),
        lock("trailing/", true),
        lock("a//b", true),
        lock("n", true, false, -1),
        s.meta.createDavLock({ ownerId: "", path: "p" }),
        s.meta.createDavLock({ ownerId: s.ownerId, path: "p", ownerXml: "x".repeat(20_000) }),
      ])
        expect(await codeOf(call)).toBe(Code.InvalidArgument);
    });
  });
}
