// Administration in the database, on SQLite and MariaDB: the first of racing signups (and only it)
// becomes an administrator, an invite is used once however many signups race for it, the last
// administrator cannot be removed even when two remove each other at once, disabling ends every session
// and app password, the users page carries usage and 2FA state, the audit log pages newest first, and the
// instance statistics add up after uploads that share content.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../core/reasons.ts";
import * as admins from "./admin-users.ts";
import * as apps from "./app-passwords.ts";
import * as audit from "./audit.ts";
import * as content from "./content.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import { instanceStats } from "./instance-stats.ts";
import * as invites from "./invites.ts";
import { metaTestClient } from "./testing.ts";
import * as trash from "./trash.ts";
import * as users from "./users.ts";

const RULES = { defaultBytes: 1000 };
const hash = (c: string) => c.repeat(64);
const settle = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof Error ? e.constructor.name : String(e)),
  );

for (const target of testDatabases()) {
  describe(`administration on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
    });
    afterAll(() => drop());

    const adminIds = async () =>
      (await db.selectFrom("users").select("id").where("admin", "=", 1).execute()).map((r) => r.id);

    test("of ten racing first signups exactly one becomes an administrator; later ones do not", async () => {
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, i) => users.createUser(db, `first${i}`, "x", 1)),
      );
      const winners = made.filter((u) => u.admin === 1);
      expect(winners).toHaveLength(1);
      expect(await adminIds()).toEqual([winners[0]?.id as string]);
      const later = await users.createUser(db, "later", "x", 2);
      expect(later.admin).toBe(0);
      const asked = await users.createUser(db, "asked", "x", 2, { admin: true, mustChangePassword: true });
      expect(await users.findUser(db, { id: asked.id })).toMatchObject({ admin: 1, must_change_password: 1 });
    });

    test("an invite is used once under concurrency; expired and unknown codes create no user", async () => {
      const creator = { created_by: "x", created_by_username: "root", note: "for the team" };
      await invites.createInvite(db, { ...creator, code_hash: hash("a"), expires_at: 10_000 }, 1);
      const tries = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          settle(users.createUser(db, `inv${i}`, "x", 5, { inviteCodeHash: hash("a") })),
        ),
      );
      expect(tries.filter((t) => t === "ok")).toHaveLength(1);
      expect(tries.filter((t) => t === "InviteInvalidError")).toHaveLength(7);
      const made = await db
        .selectFrom("users")
        .select("username")
        .where("username", "like", "inv%")
        .execute();
      expect(made).toHaveLength(1);
      const [used] = await invites.listInvites(db, true, 5);
      expect(used).toMatchObject({ used_by_username: made[0]?.username, used_at: 5 });
      expect(await invites.listInvites(db, false, 5)).toEqual([]);

      await invites.createInvite(db, { ...creator, code_hash: hash("b"), expires_at: 100 }, 1);
      expect(await settle(users.createUser(db, "late", "x", 100, { inviteCodeHash: hash("b") }))).toBe(
        "InviteInvalidError",
      );
      expect(await settle(users.createUser(db, "nocode", "x", 1, { inviteCodeHash: hash("c") }))).toBe(
        "InviteInvalidError",
      );
      // A taken username leaves the invite unused.
      await invites.createInvite(db, { ...creator, code_hash: hash("d"), expires_at: 10_000 }, 2);
      expect(
        await settle(
          users.createUser(db, String(made[0]?.username).toUpperCase(), "x", 3, {
            inviteCodeHash: hash("d"),
          }),
        ),
      ).not.toBe("ok");
      const usable = await invites.listInvites(db, false, 200);
      expect(usable.map((i) => i.code_hash)).toEqual([hash("d")]);
      expect(await invites.revokeInvite(db, usable[0]?.id as string)).toBe(true);
      expect(await invites.revokeInvite(db, usable[0]?.id as string)).toBe(false);
      expect(await invites.revokeInvite(db, used?.id as string)).toBe(false);
    });

    test("the invite refusal over RPC: PermissionDenied with the reason INVITE_REQUIRED", async () => {
      const meta = metaTestClient(db);
      const err = await meta
        .createUser({ username: "rpcinv", passwordHash: "x", inviteCodeHash: hash("e") })
        .catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect([(err as ConnectError).code, reasonOf(err)]).toEqual([
        Code.PermissionDenied,
        Reason.INVITE_REQUIRED,
      ]);
      const neg = await meta
        .createUser({ username: "rpcneg", passwordHash: "x", quotaBytes: -1n })
        .catch((e: unknown) => ConnectError.from(e).code);
      expect(neg).toBe(Code.InvalidArgument);
    });

    test("the last administrator stays: revoking or disabling them is refused, also when two race", async () => {
      const asked = await users.findUser(db, { username: "asked" });
      await admins.setUserAdmin(db, asked?.id as string, false);
      const [first] = await adminIds();
      const other = (await users.createUser(db, "second-admin", "x", 3, { admin: true })).id;
      // Two administrators remove each other at once: one wins, one is refused.
      const both = await Promise.all([
        settle(admins.setUserAdmin(db, first as string, false)),
        settle(admins.setUserAdmin(db, other, false)),
      ]);
      expect(both.sort()).toEqual(["LastAdminError", "ok"]);
      const [left] = await adminIds();
      expect(await settle(admins.setUserDisabled(db, left as string, true, 4))).toBe("LastAdminError");
      expect(await settle(admins.setUserAdmin(db, left as string, false))).toBe("LastAdminError");
      expect(await settle(admins.setUserAdmin(db, "no-such-user", true))).toBe("NoSuchUserError");
      // Put the first one back for the next tests.
      await admins.setUserAdmin(db, first as string, true);
      await admins.setUserAdmin(db, other, true);
    });

    test("disabling ends every session and app password at once; enabling keeps them ended", async () => {
      const u = (await users.createUser(db, "tobedisabled", "x", 1)).id;
      for (const t of ["1", "2"])
        await users.createRefreshToken(db, { userId: u, tokenHash: hash(t), expiresAt: 1e12 }, 10);
      const app = await apps.createAppPassword(db, { userId: u, name: "rclone", tokenHash: hash("9") }, 10);
      expect(await admins.setUserDisabled(db, u, true, 20)).toBe(3);
      expect((await users.findUser(db, { id: u }))?.disabled_at).toBe(20);
      const revoked = (await users.listRevokedSessions(db, 20, 21)).map((r) => r.sessionId);
      expect(revoked).toContain(app.id);
      expect(revoked).toHaveLength(3);
      expect(await apps.listAppPasswords(db, u)).toEqual([]);
      await admins.setUserDisabled(db, u, false, 30);
      expect((await users.findUser(db, { id: u }))?.disabled_at).toBeNull();
      // A reset requires a change and ends sessions; the user's own change clears the requirement.
      await users.createRefreshToken(db, { userId: u, tokenHash: hash("3"), expiresAt: 1e12 }, 31);
      expect(await admins.resetUserPassword(db, u, "new-hash", 40)).toBe(1);
      expect(await users.findUser(db, { id: u })).toMatchObject({
        password_hash: "new-hash",
        must_change_password: 1,
      });
      const meta = metaTestClient(db);
      await meta.setPasswordHash({ userId: u, passwordHash: "mine", expectedPasswordHash: "new-hash" });
      expect((await users.findUser(db, { id: u }))?.must_change_password).toBe(0);
    });

    test("the users page: search, paging by name, usage and 2FA state", async () => {
      for (const name of ["pg-carol", "pg-alice", "PG-bob"]) await users.createUser(db, name, "x", 1);
      const carol = await users.findUser(db, { username: "pg-carol" });
      await content.addFileWithContent(
        db,
        { ownerId: carol?.id as string, parentId: "", name: "a.txt" },
        { sha256: hash("f"), sha1: "", size: 300, backend: "local", location: "blobs/f" },
        2,
      );
      await db
        .insertInto("user_totp")
        .values({ user_id: carol?.id as string, secret: "S", enabled_at: 3, created_at: 3 })
        .execute();
      const first = await admins.listManagedUsers(db, RULES, { query: "PG-", limit: 2, after: "" });
      expect(first.users.map((u) => u.user.username)).toEqual(["pg-alice", "PG-bob"]);
      expect(first.next).toBe("pg-bob");
      const second = await admins.listManagedUsers(db, RULES, { query: "pg-", limit: 2, after: first.next });
      expect(second.next).toBe("");
      const [c] = second.users;
      expect([c?.user.username, c?.twoFactor, c?.usage.used, c?.usage.files, c?.usage.quota]).toEqual([
        "pg-carol",
        true,
        300,
        1,
        1000,
      ]);
      // "%", "_" and "!" are text, not wildcards.
      await users.createUser(db, "pg_x!y", "x", 1);
      const named = async (query: string) =>
        (await admins.listManagedUsers(db, RULES, { query, limit: 10, after: "" })).users.map(
          (u) => u.user.username,
        );
      expect(await named("%")).toEqual([]);
      expect(await named("g_x")).toEqual(["pg_x!y"]);
      expect(await named("x!y")).toEqual(["pg_x!y"]);
      expect(await named("g-_")).toEqual([]);
      await expect(admins.getManagedUser(db, RULES, { username: "nobody" })).rejects.toBeInstanceOf(
        admins.NoSuchUserError,
      );
    });

    test("the audit log pages newest first, all or one target's, without repeats", async () => {
      for (let i = 0; i < 25; i++)
        await audit.appendAuditEvent(
          db,
          {
            actor_id: "a",
            actor_username: "root",
            action: "user.quota",
            target_id: i % 5 === 0 ? "t5" : "t",
            target_username: "x",
            client_address: "10.0.0.1",
            details: `n=${i}`,
          },
          // Pairs share a millisecond: the id breaks the tie.
          1000 + Math.floor(i / 2),
        );
      const seen: string[] = [];
      let token = "";
      for (let pages = 0; pages < 10; pages++) {
        const page = await audit.listAuditEvents(db, { limit: 10, token, targetId: "" });
        seen.push(...page.events.map((e) => e.details));
        token = page.next;
        if (!token) break;
      }
      expect(seen).toHaveLength(25);
      expect(new Set(seen).size).toBe(25);
      expect(seen[0]).toBe("n=24");
      const mine = await audit.listAuditEvents(db, { limit: 100, token: "", targetId: "t5" });
      expect(mine.events.map((e) => e.details)).toEqual(["n=20", "n=15", "n=10", "n=5", "n=0"]);
      await expect(
        audit.listAuditEvents(db, { limit: 1, token: "bad!", targetId: "" }),
      ).rejects.toBeInstanceOf(audit.BadPageTokenError);
    });

    test("statistics add up after uploads that share content, trash included", async () => {
      const before = await instanceStats(db, 0)(0);
      const a = (await users.createUser(db, "st-a", "x", 1)).id;
      const b = (await users.createUser(db, "st-b", "x", 1)).id;
      const blob = { sha256: hash("7"), sha1: "", size: 1000, backend: "local", location: "blobs/7" };
      await content.addFileWithContent(db, { ownerId: a, parentId: "", name: "x" }, blob, 5);
      await content.addFileWithContent(db, { ownerId: b, parentId: "", name: "y" }, blob, 5);
      const f = await content.addFileWithContent(
        db,
        { ownerId: b, parentId: "", name: "z" },
        { ...blob, sha256: hash("8"), location: "blobs/8", size: 500, backend: "s3" },
        5,
      );
      await trash.trashFile(db, b, f.file.id, 6);
      const s = await instanceStats(db, 0)(0);
      expect(s.users - before.users).toBe(2);
      expect(s.files - before.files).toBe(3);
      expect(s.logicalBytes - before.logicalBytes).toBe(2500);
      expect(s.storedBytes - before.storedBytes).toBe(1500);
      expect(s.trashBytes - before.trashBytes).toBe(500);
      expect(s.backends.find((x) => x.backend === "s3")).toEqual({
        backend: "s3",
        blobs: 1,
        storedBytes: 500,
      });
      expect(s.admins).toBe((await adminIds()).length);
      // User counts are read on every call; byte and content figures are one snapshot, cached in the window.
      const cached = instanceStats(db, 60_000);
      const one = await cached(0);
      const c = (await users.createUser(db, "st-c", "x", 1)).id;
      const fresh = { ...blob, sha256: hash("9"), location: "blobs/9", size: 300 };
      await content.addFileWithContent(db, { ownerId: c, parentId: "", name: "w" }, fresh, 7);
      const soon = await cached(1000);
      expect([soon.users, soon.logicalBytes, soon.storedBytes, soon.files]).toEqual([
        one.users + 1,
        one.logicalBytes,
        one.storedBytes,
        one.files,
      ]);
      const later = await cached(60_000);
      expect([later.logicalBytes, later.storedBytes, later.files]).toEqual([
        one.logicalBytes + 300,
        one.storedBytes + 300,
        one.files + 1,
      ]);
    });
  });
}
