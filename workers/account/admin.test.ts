// AdminService and the signup policy through the account service with the real interceptors over an
// in-memory meta: the first user is the administrator, the role is checked on every call from the
// database (non-admins and app-password tokens get PermissionDenied), an administrator cannot lock
// themselves out, disabling and resetting a password reach signin, refresh and app passwords, invites
// work once, ADMIN_USERS applies, and every change is audited.
import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { reasonOf } from "../../core/reasons.ts";
import { SignupPolicy } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { setupAccount } from "./testing.ts";

const password = "correct horse";
const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const outcome = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    const e = ConnectError.from(err);
    return `${Code[e.code]}${reasonOf(e) ? `:${reasonOf(e)}` : ""}`;
  }
};

async function instance(opts: Parameters<typeof setupAccount>[0] = {}) {
  const s = await setupAccount(opts);
  const signin = async (username: string, pw = password, more: { newPassword?: string } = {}) => {
    const res = await s.client.signin({ username, password: pw, ...more });
    if (!res.tokens || !res.user) throw new Error("no tokens");
    return { tokens: res.tokens, user: res.user, h: auth(res.tokens.accessToken) };
  };
  return { ...s, signin };
}

describe("AdminService", () => {
  test("the first user is the administrator; others get PermissionDenied, app-password tokens too", async () => {
    const s = await instance();
    const root = (await s.client.signup({ username: "root", password })).user;
    const bob = (await s.client.signup({ username: "bob", password })).user;
    expect([root?.admin, bob?.admin]).toEqual([true, false]);
    const r = await s.signin("root");
    expect(r.user.admin).toBe(true);
    expect((await s.client.getUserInfo({}, r.h)).user?.admin).toBe(true);
    const b = await s.signin("bob");
    expect(await outcome(s.admin.listUsers({}, b.h))).toBe("PermissionDenied");
    expect(await outcome(s.admin.getInstanceStats({}, b.h))).toBe("PermissionDenied");
    expect(await outcome(s.admin.listUsers({}))).toBe("Unauthenticated");
    // The administrator's own app password never administers.
    const app = await s.client.createAppPassword({ name: "script" }, r.h);
    const ex = await s.appAuth.exchangeAppPassword({ username: "root", appPassword: app.secret });
    expect(await outcome(s.admin.listUsers({}, auth(ex.accessToken)))).toBe("PermissionDenied");
    // The role is read on every call: granted, it works at once with the same token; revoked, it stops.
    await s.admin.setAdmin({ userId: bob?.id as string, admin: true }, r.h);
    expect((await s.admin.listUsers({}, b.h)).users.map((u) => u.username)).toEqual(["bob", "root"]);
    await s.admin.setAdmin({ userId: bob?.id as string, admin: false }, r.h);
    expect(await outcome(s.admin.listUsers({}, b.h))).toBe("PermissionDenied");
  });

  test("an administrator cannot disable, delete or demote themselves; bad input is refused clearly", async () => {
    const s = await instance();
    const root = (await s.client.signup({ username: "root", password })).user?.id as string;
    const bob = (await s.client.signup({ username: "bob", password })).user?.id as string;
    const { h } = await s.signin("root");
    expect(await outcome(s.admin.disableUser({ userId: root }, h))).toBe("FailedPrecondition");
    expect(await outcome(s.admin.deleteUser({ userId: root, confirmUsername: "root" }, h))).toBe(
      "FailedPrecondition",
    );
    expect(await outcome(s.admin.setAdmin({ userId: root, admin: false }, h))).toBe("FailedPrecondition");
    const self = await s.admin.disableUser({ userId: root }, h).catch((e: unknown) => ConnectError.from(e));
    expect((self as ConnectError).rawMessage).toContain("your own account");
    expect(
      await outcome(s.admin.setQuota({ userId: bob, quota: { case: "quotaBytes", value: -1n } }, h)),
    ).toBe("InvalidArgument");
    expect(await outcome(s.admin.setQuota({ userId: bob }, h))).toBe("InvalidArgument");
    expect(
      await outcome(s.admin.setQuota({ userId: "nope", quota: { case: "quotaBytes", value: 5n } }, h)),
    ).toBe("NotFound");
    expect(await outcome(s.admin.getUser({ key: { case: "username", value: "nobody" } }, h))).toBe(
      "NotFound",
    );
    expect(await outcome(s.admin.listUsers({ pageSize: 501 }, h))).toBe("InvalidArgument");
    expect(await outcome(s.admin.listUsers({ pageSize: -1 }, h))).toBe("InvalidArgument");
    expect(await outcome(s.admin.listUsers({ pageToken: "%%%" }, h))).toBe("InvalidArgument");
    expect(await outcome(s.admin.deleteUser({ userId: bob, confirmUsername: "bobby" }, h))).toBe(
      "InvalidArgument",
    );
    expect(await outcome(s.admin.createInvite({ ttlSeconds: 60n }, h))).toBe("InvalidArgument");
    expect(await outcome(s.admin.createUser({ username: "x", password }, h))).toBe("InvalidArgument");
    expect(await outcome(s.admin.createUser({ username: "bob", password }, h))).toBe("AlreadyExists");
    expect(await outcome(s.admin.createUser({ username: "neg", password, quotaBytes: -5n }, h))).toBe(
      "InvalidArgument",
    );
    // Quota set, then back to the default.
    const q = await s.admin.setQuota({ userId: bob, quota: { case: "quotaBytes", value: 5000n } }, h);
    expect([q.user?.quotaBytes, q.user?.defaultQuota]).toEqual([5000n, false]);
    const d = await s.admin.setQuota({ userId: bob, quota: { case: "useDefault", value: true } }, h);
    expect(d.user?.defaultQuota).toBe(true);
  });

  test("disable: sessions and app passwords end, signin, refresh and exchange are refused; enable restores signin", async () => {
    const s = await instance();
    await s.client.signup({ username: "root", password });
    const bob = (await s.client.signup({ username: "bob", password })).user?.id as string;
    const { h } = await s.signin("root");
    const b = await s.signin("bob");
    const app = await s.client.createAppPassword({ name: "dav" }, b.h);
    const res = await s.admin.disableUser({ userId: bob, reason: "spam" }, h);
    expect([res.user?.disabled, res.sessionsRevoked]).toEqual([true, 2]);
    const revoked = (await s.client.listRevokedSessions({})).sessions.map((x) => x.sessionId);
    expect(revoked).toContain(app.appPassword?.id as string);
    expect(await outcome(s.signin("bob"))).toBe("PermissionDenied:ACCOUNT_DISABLED");
    const msg = await s.signin("bob").catch((e: unknown) => ConnectError.from(e).rawMessage);
    expect(msg).toBe("this account has been disabled by an administrator");
    // A wrong password still says only that (nothing about the account's state).
    expect(await outcome(s.signin("bob", "wrong password"))).toBe("Unauthenticated");
    expect(await outcome(s.client.refresh({ refreshToken: b.tokens.refreshToken }))).not.toBe("ok");
    expect(await outcome(s.appAuth.exchangeAppPassword({ username: "bob", appPassword: app.secret }))).toBe(
      "Unauthenticated",
    );
    await s.admin.enableUser({ userId: bob }, h);
    expect((await s.signin("bob")).user.username).toBe("bob");
  });

  test("reset password: sessions end, signin needs a new password, then works with it", async () => {
    const s = await instance();
    await s.client.signup({ username: "root", password });
    const bob = (await s.client.signup({ username: "bob", password })).user?.id as string;
    const { h } = await s.signin("root");
    await s.signin("bob");
    const res = await s.admin.resetPassword({ userId: bob }, h);
    expect(res.temporaryPassword).toHaveLength(24);
    expect(res.sessionsRevoked).toBe(1);
    expect(await outcome(s.signin("bob"))).toBe("Unauthenticated");
    expect(await outcome(s.signin("bob", res.temporaryPassword))).toBe(
      "FailedPrecondition:PASSWORD_CHANGE_REQUIRED",
    );
    expect((await s.admin.getUser({ key: { case: "userId", value: bob } }, h)).user?.mustChangePassword).toBe(
      true,
    );
    expect(
      await outcome(s.signin("bob", res.temporaryPassword, { newPassword: res.temporaryPassword })),
    ).toBe("InvalidArgument");
    expect(await outcome(s.signin("bob", res.temporaryPassword, { newPassword: "short" }))).toBe(
      "InvalidArgument",
    );
    const ok = await s.signin("bob", res.temporaryPassword, { newPassword: "bob's own pass" });
    expect(ok.user.username).toBe("bob");
    expect((await s.signin("bob", "bob's own pass")).user.username).toBe("bob");
    expect((await s.admin.getUser({ key: { case: "userId", value: bob } }, h)).user?.mustChangePassword).toBe(
      false,
    );
    // A given password is not echoed back.
    expect(
      (await s.admin.resetPassword({ userId: bob, newPassword: "given password" }, h)).temporaryPassword,
    ).toBe("");
  });

  test("the audit log: every change with actor, target and action, newest first", async () => {
    const s = await instance();
    await s.client.signup({ username: "root", password });
    const { h } = await s.signin("root");
    const carol = (await s.admin.createUser({ username: "carol", password, admin: false }, h)).user
      ?.id as string;
    await s.admin.setQuota({ userId: carol, quota: { case: "quotaBytes", value: 1n } }, h);
    await s.admin.disableUser({ userId: carol, reason: "left the team" }, h);
    await s.admin.enableUser({ userId: carol }, h);
    const inv = await s.admin.createInvite({ note: "for dave" }, h);
    await s.admin.revokeInvite({ id: inv.invite?.id as string }, h);
    await s.admin.deleteUser({ userId: carol, confirmUsername: "CAROL" }, h);
    const { events } = await s.admin.listAuditEvents({}, h);
    expect(events.map((e) => e.action)).toEqual([
      "user.delete",
      "invite.revoke",
      "invite.create",
      "user.enable",
      "user.disable",
      "user.quota",
      "user.create",
    ]);
    expect(events.every((e) => e.actorUsername === "root")).toBe(true);
    const disable = events.find((e) => e.action === "user.disable");
    expect([disable?.targetUsername, disable?.details]).toEqual([
      "carol",
      "sessions_revoked=0 reason=left the team",
    ]);
    const mine = await s.admin.listAuditEvents({ targetId: carol, pageSize: 2 }, h);
    expect(mine.events).toHaveLength(2);
    expect(mine.nextPageToken).not.toBe("");
    expect(await outcome(s.admin.getUser({ key: { case: "userId", value: carol } }, h))).toBe("NotFound");
  });
});

describe("signup policy", () => {
  test("invite: without a code, with a wrong one, with a good one (once)", async () => {
    const s = await instance({ signup: "invite", adminUsers: ["Root"] });
    expect((await s.client.getSignupPolicy({})).policy).toBe(SignupPolicy.INVITE);
    // ADMIN_USERS may sign up whatever the policy, and are administrators.
    expect((await s.client.signup({ username: "root", password })).user?.admin).toBe(true);
    expect(await outcome(s.client.signup({ username: "eve", password }))).toBe(
      "PermissionDenied:INVITE_REQUIRED",
    );
    expect(await outcome(s.client.signup({ username: "eve", password, inviteCode: "fsi_nope" }))).toBe(
      "PermissionDenied:INVITE_REQUIRED",
    );
    const { h } = await s.signin("root");
    const { code, invite } = await s.admin.createInvite({ ttlSeconds: 3600n, note: "dave" }, h);
    expect(code).toMatch(/^fsi_/);
    expect((await s.client.signup({ username: "dave", password, inviteCode: ` ${code} ` })).user?.admin).toBe(
      false,
    );
    expect(await outcome(s.client.signup({ username: "dave2", password, inviteCode: code }))).toBe(
      "PermissionDenied:INVITE_REQUIRED",
    );
    const all = await s.admin.listInvites({ includeInactive: true }, h);
    expect(all.invites.map((i) => [i.id, i.usedByUsername, i.createdBy, i.note])).toEqual([
      [invite?.id as string, "dave", "root", "dave"],
    ]);
    expect((await s.admin.listInvites({}, h)).invites).toEqual([]);
    expect(await outcome(s.admin.revokeInvite({ id: invite?.id as string }, h))).toBe("NotFound");
    // ADMIN_USERS cannot be demoted through the API.
    const root = (await s.admin.getUser({ key: { case: "username", value: "root" } }, h)).user;
    await s.admin.setAdmin({ userId: (await s.signin("dave")).user.id, admin: true }, h);
    const dave = await s.signin("dave");
    expect(await outcome(s.admin.setAdmin({ userId: root?.id as string, admin: false }, dave.h))).toBe(
      "FailedPrecondition",
    );
  });

  test("closed: Signup refused with SIGNUP_CLOSED; administrators still create accounts", async () => {
    const s = await instance({ signup: "closed", adminUsers: ["root"] });
    expect((await s.client.getSignupPolicy({})).policy).toBe(SignupPolicy.CLOSED);
    await s.client.signup({ username: "root", password });
    expect(await outcome(s.client.signup({ username: "eve", password }))).toBe(
      "PermissionDenied:SIGNUP_CLOSED",
    );
    const { h } = await s.signin("root");
    const made = await s.admin.createUser(
      { username: "frank", password, quotaBytes: 0n, mustChangePassword: true },
      h,
    );
    expect([made.user?.quotaBytes, made.user?.defaultQuota, made.user?.mustChangePassword]).toEqual([
      0n,
      false,
      true,
    ]);
    expect(await outcome(s.signin("frank"))).toBe("FailedPrecondition:PASSWORD_CHANGE_REQUIRED");
  });

  test("ADMIN_USERS applies at signin to an existing account", async () => {
    const s = await instance({ adminUsers: ["bob"] });
    await s.client.signup({ username: "root", password });
    // bob signs up while named: admin from the start. Take the role away in the database, sign in again.
    await s.client.signup({ username: "bob", password });
    await s.db.updateTable("users").set({ admin: 0 }).where("username", "=", "bob").execute();
    expect((await s.signin("bob")).user.admin).toBe(true);
    expect((await s.admin.listUsers({ query: "BO" }, (await s.signin("bob")).h)).users[0]?.admin).toBe(true);
  });
});
