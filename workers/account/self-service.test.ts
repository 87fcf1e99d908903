// Account self-service through AccountService with the real interceptors over an in-memory meta: the
// password change that ends the other sessions, the list of sessions, TOTP (enrolment, sign-in with a
// code, no replay, recovery codes once, failures limited, regenerated), app passwords (never settings),
// deletion.
import { beforeEach, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { codeOf as code } from "../lib/testing.ts";
import { verifyAppPassword } from "./app-passwords.ts";
import { totpCode } from "./second-factor.ts";
import { setupAccount } from "./testing.ts";

const password = "correct horse";
const auth = (token: string, more: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${token}`, ...more },
});
const reasonOfCall = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    return [ConnectError.from(err).code, reasonOf(err)];
  }
};

describe("account self-service", () => {
  let clock = Date.now();
  let s: Awaited<ReturnType<typeof setupAccount>>;
  beforeEach(async () => {
    clock = Date.now();
    s = await setupAccount({ now: () => clock, perUser: 4 });
    await s.client.signup({ username: "alice", password });
  });
  const signin = (secondFactor = "", ua = "test-agent/1") =>
    s.client.signin({ username: "alice", password, secondFactor }, { headers: { "user-agent": ua } });
  const tokens = async (secondFactor = "", ua?: string) => {
    const t = (await signin(secondFactor, ua)).tokens;
    if (!t) throw new Error("no tokens");
    return t;
  };
  const revokedIds = async () => (await s.client.listRevokedSessions({})).sessions.map((x) => x.sessionId);

  test("ChangePassword: the current password is required; every other session ends, this one stays", async () => {
    const mine = await tokens();
    const other = await tokens();
    expect(
      await code(
        s.client.changePassword(
          { currentPassword: "wrong pass", newPassword: "new password!" },
          auth(mine.accessToken),
        ),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await code(
        s.client.changePassword({ currentPassword: password, newPassword: "short" }, auth(mine.accessToken)),
      ),
    ).toBe(Code.InvalidArgument);
    const res = await s.client.changePassword(
      { currentPassword: password, newPassword: "new password!" },
      auth(mine.accessToken),
    );
    expect(res.sessionsRevoked).toBe(1);
    expect(await code(s.client.refresh({ refreshToken: other.refreshToken }))).toBe(Code.Unauthenticated);
    expect(await code(s.client.refresh({ refreshToken: mine.refreshToken }))).toBe("ok");
    const otherSid = JSON.parse(
      Buffer.from(other.accessToken.split(".")[1] ?? "", "base64url").toString(),
    ).sid;
    expect(await revokedIds()).toContain(otherSid);
    expect(await code(signin())).toBe(Code.Unauthenticated);
    expect(await code(s.client.signin({ username: "alice", password: "new password!" }))).toBe("ok");
  });

  test("sessions: listed with the client and this one marked; revoked one by one, or all (but this one)", async () => {
    const mine = await tokens("", "Firefox/140");
    await tokens("", "curl/8");
    const third = await tokens("", "rclone/1.70");
    const listed = (await s.client.listSessions({}, auth(mine.accessToken))).sessions;
    expect(listed.map((x) => x.userAgent).sort()).toEqual(["Firefox/140", "curl/8", "rclone/1.70"]);
    expect(listed.filter((x) => x.current).map((x) => x.userAgent)).toEqual(["Firefox/140"]);
    const curl = listed.find((x) => x.userAgent === "curl/8");
    await s.client.revokeSession({ sessionId: curl?.id ?? "" }, auth(mine.accessToken));
    expect(await code(s.client.revokeSession({ sessionId: curl?.id ?? "" }, auth(mine.accessToken)))).toBe(
      Code.NotFound,
    );
    expect(await code(s.client.revokeSession({ sessionId: "" }, auth(mine.accessToken)))).toBe(
      Code.InvalidArgument,
    );
    expect(
      (await s.client.signOutEverywhere({ keepCurrent: true }, auth(mine.accessToken))).sessionsRevoked,
    ).toBe(1);
    expect(await code(s.client.refresh({ refreshToken: third.refreshToken }))).toBe(Code.Unauthenticated);
    const left = (await s.client.listSessions({}, auth(mine.accessToken))).sessions;
    expect(left.map((x) => [x.userAgent, x.current])).toEqual([["Firefox/140", true]]);
    expect((await s.client.signOutEverywhere({}, auth(mine.accessToken))).sessionsRevoked).toBe(1);
    expect(await code(s.client.refresh({ refreshToken: mine.refreshToken }))).toBe(Code.Unauthenticated);
  });

  test("TOTP: enrol, sign in with a code, a code works once, recovery codes once, failures limited, disable", async () => {
    const t = await tokens();
    const a = auth(t.accessToken);
    expect(await code(s.client.beginTotpEnrollment({ password: "wrong pass" }, a))).toBe(
      Code.PermissionDenied,
    );
    const begun = await s.client.beginTotpEnrollment({ password }, a);
    expect(begun.otpauthUri).toStartWith("otpauth://totp/filestore:alice?");
    expect(begun.otpauthUri).toContain(`secret=${begun.secret}`);
    expect((await s.client.getTwoFactorStatus({}, a)).enabled).toBe(false);
    expect(await code(s.client.confirmTotpEnrollment({ code: "000000" }, a))).toBe(Code.InvalidArgument);
    const { recoveryCodes } = await s.client.confirmTotpEnrollment(
      { code: totpCode(begun.secret, clock) },
      a,
    );
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await s.client.getTwoFactorStatus({}, a)).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });
    expect(await code(s.client.beginTotpEnrollment({ password }, a))).toBe(Code.FailedPrecondition);

    // The password alone: asked for the code. The enrolment's code is used already (same step): refused.
    expect(await reasonOfCall(signin())).toEqual([Code.Unauthenticated, Reason.SECOND_FACTOR_REQUIRED]);
    expect(await reasonOfCall(signin(totpCode(begun.secret, clock)))).toEqual([
      Code.Unauthenticated,
      Reason.SECOND_FACTOR_REQUIRED,
    ]);
    clock += 30_000;
    const fresh = totpCode(begun.secret, clock);
    expect(await code(signin(fresh))).toBe("ok");
    // Replayed within its window: refused.
    expect(await code(signin(fresh))).toBe(Code.Unauthenticated);
    // A recovery code works once, typed in any case and with spaces.
    const rc = recoveryCodes[0] ?? "";
    expect(await code(signin(` ${rc.toUpperCase()} `))).toBe("ok");
    expect(await code(signin(rc))).toBe(Code.Unauthenticated);
    expect((await s.client.getTwoFactorStatus({}, a)).recoveryCodesLeft).toBe(9);
    // Wrong codes count toward the sign-in limit (4 attempts per user and client since the last success).
    for (const wrong of ["123456", "234567", "345678"])
      expect(await code(signin(wrong))).toBe(Code.Unauthenticated);
    expect(await code(signin(totpCode(begun.secret, clock + 30_000)))).toBe(Code.ResourceExhausted);

    // Disabling needs the password and a code.
    clock += 60_000;
    s.deps.limiter = (await import("../lib/ratelimit.ts")).memoryRateLimiter();
    expect(await code(s.client.disableTotp({ password, code: "" }, a))).toBe(Code.InvalidArgument);
    expect(
      await code(s.client.disableTotp({ password: "wrong pass", code: totpCode(begun.secret, clock) }, a)),
    ).toBe(Code.PermissionDenied);
    expect(await code(s.client.disableTotp({ password, code: "654321" }, a))).toBe(Code.PermissionDenied);
    await s.client.disableTotp({ password, code: recoveryCodes[1] ?? "" }, a);
    expect(await s.client.getTwoFactorStatus({}, a)).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
    expect(await code(signin())).toBe("ok");
  });

  test("RegenerateRecoveryCodes: password and a current TOTP code; ten new codes, the old ones dead", async () => {
    const a = auth((await tokens()).accessToken);
    expect(await code(s.client.regenerateRecoveryCodes({ password, code: "123456" }, a))).toBe(
      Code.FailedPrecondition,
    );
    const begun = await s.client.beginTotpEnrollment({ password }, a);
    const old = (await s.client.confirmTotpEnrollment({ code: totpCode(begun.secret, clock) }, a))
      .recoveryCodes;
    // The secret is sealed in meta's table, never in plaintext.
    const row = await s.db.selectFrom("user_totp").select("secret").executeTakeFirstOrThrow();
    expect([row.secret.startsWith("v1:"), row.secret.includes(begun.secret)]).toEqual([true, false]);
    clock += 30_000;
    const now = totpCode(begun.secret, clock);
    const regen = (password: string, c: string) => s.client.regenerateRecoveryCodes({ password, code: c }, a);
    expect(await code(regen("wrong pass", now))).toBe(Code.PermissionDenied);
    expect(await code(regen(password, "654321"))).toBe(Code.PermissionDenied);
    // A recovery code cannot mint new ones.
    expect(await code(regen(password, old[0] ?? ""))).toBe(Code.InvalidArgument);
    const { recoveryCodes } = await regen(password, now);
    expect(recoveryCodes).toHaveLength(10);
    expect(recoveryCodes.filter((c) => old.includes(c))).toEqual([]);
    expect((await s.client.getTwoFactorStatus({}, a)).recoveryCodesLeft).toBe(10);
    // Its code is used (no replay); the old codes no longer sign in, the new ones do.
    expect(await code(regen(password, now))).toBe(Code.PermissionDenied);
    expect(await code(signin(old[1]))).toBe(Code.Unauthenticated);
    expect(await code(signin(recoveryCodes[0]))).toBe("ok");
  });

  test("app passwords: shown once, listed with last use; their tokens never change settings; revoked", async () => {
    const t = await tokens();
    const created = await s.client.createAppPassword({ name: " rclone on laptop " }, auth(t.accessToken));
    expect(created.secret).toMatch(/^fsa_[A-Za-z0-9_-]{43}$/);
    expect(created.appPassword?.name).toBe("rclone on laptop");
    expect(await code(s.client.createAppPassword({ name: "" }, auth(t.accessToken)))).toBe(
      Code.InvalidArgument,
    );
    // It is not a password for Signin (the web UI).
    expect(await code(s.client.signin({ username: "alice", password: created.secret }))).toBe(
      Code.Unauthenticated,
    );
    expect(await verifyAppPassword(s.deps, "ALICE", created.secret)).toBeDefined();
    expect(await verifyAppPassword(s.deps, "bob", created.secret)).toBeUndefined();
    const ex = await s.appAuth.exchangeAppPassword({ username: "alice", appPassword: created.secret });
    expect(ex.appPasswordId).toBe(created.appPassword?.id ?? "");
    const app = auth(ex.accessToken);
    expect((await s.client.getUserInfo({}, app)).user?.username).toBe("alice");
    for (const settings of [
      () => s.client.changePassword({ currentPassword: password, newPassword: "taken over!" }, app),
      () => s.client.listSessions({}, app),
      () => s.client.signOutEverywhere({}, app),
      () => s.client.beginTotpEnrollment({ password }, app),
      () => s.client.createAppPassword({ name: "another" }, app),
      () => s.client.revokeAppPassword({ id: ex.appPasswordId }, app),
      () => s.client.deleteAccount({ password }, app),
      () => s.client.regenerateRecoveryCodes({ password, code: "123456" }, app),
    ])
      expect(await code(settings())).toBe(Code.PermissionDenied);
    const listed = (await s.client.listAppPasswords({}, auth(t.accessToken))).appPasswords;
    expect(listed.map((x) => [x.name, x.lastUsedAt !== undefined])).toEqual([["rclone on laptop", true]]);
    expect(
      await code(
        s.appAuth.exchangeAppPassword({ username: "alice", appPassword: `${created.secret.slice(0, -1)}x` }),
      ),
    ).toBe(Code.Unauthenticated);
    // Internal only: a user's token is not the internal secret.
    await s.client.revokeAppPassword({ id: ex.appPasswordId }, auth(t.accessToken));
    expect(await revokedIds()).toContain(ex.appPasswordId);
    expect(
      await code(s.appAuth.exchangeAppPassword({ username: "alice", appPassword: created.secret })),
    ).toBe(Code.Unauthenticated);
    expect(await code(s.client.revokeAppPassword({ id: ex.appPasswordId }, auth(t.accessToken)))).toBe(
      Code.NotFound,
    );
  });

  test("DeleteAccount: needs the password (and the code with two-factor on); then nothing signs in", async () => {
    const t = await tokens();
    const a = auth(t.accessToken);
    const begun = await s.client.beginTotpEnrollment({ password }, a);
    await s.client.confirmTotpEnrollment({ code: totpCode(begun.secret, clock) }, a);
    clock += 30_000;
    expect(await code(s.client.deleteAccount({ password: "wrong pass" }, a))).toBe(Code.PermissionDenied);
    expect(await reasonOfCall(s.client.deleteAccount({ password }, a))).toEqual([
      Code.PermissionDenied,
      Reason.SECOND_FACTOR_REQUIRED,
    ]);
    // alice, the first user, is the only administrator: she cannot leave until someone else is one.
    const last = await s.client
      .deleteAccount({ password, secondFactor: totpCode(begun.secret, clock) }, a)
      .catch((e: unknown) => ConnectError.from(e));
    expect([(last as ConnectError).code, (last as ConnectError).rawMessage]).toEqual([
      Code.FailedPrecondition,
      "this is the last administrator: make another user an administrator first",
    ]);
    const bob = (await s.client.signup({ username: "bob", password })).user?.id as string;
    await s.admin.setAdmin({ userId: bob, admin: true }, a);
    clock += 30_000;
    await s.client.deleteAccount({ password, secondFactor: totpCode(begun.secret, clock) }, a);
    expect(await code(s.client.signin({ username: "alice", password }))).toBe(Code.Unauthenticated);
    expect(await code(s.client.refresh({ refreshToken: t.refreshToken }))).toBe(Code.Unauthenticated);
    expect(await code(s.client.getUserInfo({}, a))).toBe(Code.Unauthenticated);
    // The name can be taken again.
    expect(await code(s.client.signup({ username: "alice", password }))).toBe("ok");
  });
});
