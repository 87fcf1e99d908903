// Administration end to end, in either mode, through the gateway: the first user of an empty instance
// is the administrator; non-administrators get permission_denied; disabling refuses the user's existing
// access token within seconds and their signin with ACCOUNT_DISABLED, enabling lets them back; a password
// reset forces a new password at signin; deleting a user purges their files and GC frees the bytes; a
// quota set by an administrator refuses an upload over it with 507; statistics and the audit log (actor,
// target, client address); the CLI's admin commands with --json. A second stack runs SIGNUP=invite.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ACCOUNT,
  connectCall,
  eventually,
  FILES,
  ROOT,
  randomBytes,
  run,
  type Stack,
  sha256,
  signedInUser,
  startStack,
  uniqueName,
} from "./harness.ts";

const SECRET = "e2e-internal-secret-0123456789abcdef";
/** Revocation is read about once a second by every process; allow a loaded machine plenty more. */
const WITHIN_MS = 15_000;
const MODE = process.env.FILESTORE_TEST_MODE ?? "allinone";
const ADMIN = "filestore.admin.v1.AdminService";
const password = "correct horse battery";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const reasonsOf = (r: { json: Record<string, unknown> }) =>
  ((r.json.details as { debug?: { reason?: string } }[] | undefined) ?? []).map((d) => d.debug?.reason);
type Json = Record<string, unknown>;
// Two stacks on a shared machine: a test (or a stack's stop) may take well over bun's default 5 s.
setDefaultTimeout(60_000);

function api(stack: () => Stack) {
  const call = (service: string, method: string, body: unknown, token?: string) =>
    connectCall(stack().gatewayUrl, `${service}/${method}`, body, token ? bearer(token) : {});
  return {
    account: (method: string, body: unknown, token?: string) => call(ACCOUNT, method, body, token),
    admin: (method: string, body: unknown, token: string) => call(ADMIN, method, body, token),
    signin: (username: string, pw = password, more: Json = {}) =>
      call(ACCOUNT, "Signin", { username, password: pw, ...more }),
  };
}

let stack: Stack;
let work: string;
let root: { token: string; id: string };
const { account, admin, signin } = api(() => stack);

beforeAll(async () => {
  stack = await startStack({ INTERNAL_SECRET: SECRET, GC_GRACE_SECONDS: "0", GC_INTERVAL_SECONDS: "0" });
  work = mkdtempSync(join(tmpdir(), "filestore-admin-e2e-"));
  // The first user of this empty instance.
  expect((await account("Signup", { username: "root", password })).status).toBe(200);
  const r = await signin("root");
  root = {
    token: (r.json.tokens as { accessToken: string }).accessToken,
    id: (r.json.user as Json).id as string,
  };
}, 90_000);
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

const listStatus = async (token: string) =>
  (await connectCall(stack.gatewayUrl, `${FILES}/ListFiles`, {}, bearer(token))).status;

async function upload(token: string, name: string, data: Uint8Array<ArrayBuffer>) {
  return fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: bearer(token),
    body: data,
  });
}

describe(`administration (${MODE})`, () => {
  test("the first user is the administrator; others are not and get permission_denied", async () => {
    const r = await signin("root");
    expect((r.json.user as Json).admin).toBe(true);
    expect(((await account("GetUserInfo", {}, root.token)).json.user as Json).admin).toBe(true);
    const u = await signedInUser(stack.gatewayUrl);
    expect(((await account("GetUserInfo", {}, u.accessToken)).json.user as Json).admin).toBeUndefined();
    for (const method of ["ListUsers", "GetInstanceStats", "ListAuditEvents"]) {
      const denied = await admin(method, {}, u.accessToken);
      expect([denied.status, denied.json.code]).toEqual([403, "permission_denied"]);
    }
    const self = await admin("DisableUser", { userId: root.id }, root.token);
    expect([self.status, self.json.code]).toEqual([400, "failed_precondition"]);
  });

  test("disable: the user's access token is refused within seconds, signin says ACCOUNT_DISABLED; enable lets them in", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    expect(await listStatus(u.accessToken)).toBe(200);
    const off = await admin("DisableUser", { userId: u.user.id, reason: "e2e" }, root.token);
    expect([off.status, (off.json.user as Json).disabled]).toEqual([200, true]);
    expect(await eventually(async () => (await listStatus(u.accessToken)) === 401, WITHIN_MS)).toBe(true);
    const refused = await signin(u.username);
    expect([refused.status, refused.json.message]).toEqual([
      403,
      "this account has been disabled by an administrator",
    ]);
    expect(reasonsOf(refused)).toEqual(["ACCOUNT_DISABLED"]);
    expect((await account("Refresh", { refreshToken: u.refreshToken })).status).not.toBe(200);
    expect((await admin("EnableUser", { userId: u.user.id }, root.token)).status).toBe(200);
    const back = await signin(u.username);
    expect(back.status).toBe(200);
    expect(await listStatus((back.json.tokens as { accessToken: string }).accessToken)).toBe(200);
  }, 60_000);

  test("reset password: sessions end, signin needs a new password, then works with it", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const reset = await admin("ResetPassword", { userId: u.user.id }, root.token);
    const temp = reset.json.temporaryPassword as string;
    expect([reset.status, reset.json.sessionsRevoked]).toEqual([200, 1]);
    expect(await eventually(async () => (await listStatus(u.accessToken)) === 401, WITHIN_MS)).toBe(true);
    expect((await signin(u.username)).status).toBe(401);
    const must = await signin(u.username, temp);
    expect([must.status, must.json.code, reasonsOf(must)]).toEqual([
      400,
      "failed_precondition",
      ["PASSWORD_CHANGE_REQUIRED"],
    ]);
    const changed = await signin(u.username, temp, { newPassword: "my own new pass" });
    expect(changed.status).toBe(200);
    expect((await signin(u.username, "my own new pass")).status).toBe(200);
  }, 60_000);

  test("a quota set by the administrator refuses an upload over it with 507", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const set = await admin("SetQuota", { userId: u.user.id, quotaBytes: "100000" }, root.token);
    expect([set.status, (set.json.user as Json).quotaBytes]).toEqual([200, "100000"]);
    const neg = await admin("SetQuota", { userId: u.user.id, quotaBytes: "-1" }, root.token);
    expect([neg.status, neg.json.code]).toEqual([400, "invalid_argument"]);
    expect((await upload(u.accessToken, "fits.bin", randomBytes(60_000))).status).toBe(201);
    const over = await upload(u.accessToken, "over.bin", randomBytes(60_000));
    expect(over.status).toBe(507);
    const unknown = await admin("SetQuota", { userId: "no-such-user", quotaBytes: "1" }, root.token);
    expect([unknown.status, unknown.json.code]).toEqual([404, "not_found"]);
  });

  test("delete user: files purged, content freed by garbage collection (shared content stays), sign-in dies", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const keeper = await signedInUser(stack.gatewayUrl);
    const lone = randomBytes(150_000);
    const shared = randomBytes(120_000);
    expect((await upload(u.accessToken, "lone.bin", lone)).status).toBe(201);
    expect((await upload(u.accessToken, "shared.bin", shared)).status).toBe(201);
    expect((await upload(keeper.accessToken, "shared.bin", shared)).status).toBe(201);
    const wrong = await admin("DeleteUser", { userId: u.user.id, confirmUsername: "someone" }, root.token);
    expect([wrong.status, wrong.json.code]).toEqual([400, "invalid_argument"]);
    const del = await admin("DeleteUser", { userId: u.user.id, confirmUsername: u.username }, root.token);
    expect([del.status, del.json.filesDeleted]).toEqual([200, "2"]);
    expect((await signin(u.username)).status).toBe(401);
    expect(await eventually(async () => (await listStatus(u.accessToken)) === 401, WITHIN_MS)).toBe(true);
    const gc = await connectCall(
      stack.fileUrl,
      "filestore.file.v1.FileAdminService/RunGarbageCollection",
      {},
      { "x-filestore-internal": SECRET },
    );
    expect(gc.status).toBe(200);
    const onDisk = (data: Uint8Array) => [...new Bun.Glob(`**/${sha256(data)}.*`).scanSync(stack.dataDir)];
    expect(onDisk(lone)).toEqual([]);
    expect(onDisk(shared)).toHaveLength(1);
    const gone = await admin("GetUser", { userId: u.user.id }, root.token);
    expect([gone.status, gone.json.code]).toEqual([404, "not_found"]);
  }, 60_000);

  test("statistics: users, administrators, logical and stored bytes with dedup", async () => {
    const a = await signedInUser(stack.gatewayUrl);
    const b = await signedInUser(stack.gatewayUrl);
    const same = randomBytes(200_000);
    expect((await upload(a.accessToken, "same.bin", same)).status).toBe(201);
    expect((await upload(b.accessToken, "same.bin", same)).status).toBe(201);
    const users = (await admin("ListUsers", { pageSize: 500 }, root.token)).json.users as Json[];
    const used = users.reduce((s, u) => s + Number(u.usedBytes ?? 0), 0);
    // Statistics are cached for a few seconds: wait for the answer that includes these uploads.
    let stats: Json = {};
    const fresh = await eventually(async () => {
      stats = (await admin("GetInstanceStats", {}, root.token)).json;
      return Number(stats.logicalBytes) === used;
    }, 30_000);
    expect(fresh).toBe(true);
    expect(Number(stats.users)).toBe(users.length);
    expect(Number(stats.admins)).toBe(1);
    expect(Number(stats.storedBytes)).toBeLessThan(used);
    expect(stats.dedupRatio as number).toBeGreaterThan(1);
    expect((stats.backends as Json[]).map((x) => x.backend)).toContain("local");
  }, 60_000);

  test("the audit log lists each change with actor, target and client address", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    await admin("SetQuota", { userId: u.user.id, quotaBytes: "5000000" }, root.token);
    await admin("SetAdmin", { userId: u.user.id, admin: true }, root.token);
    await admin("SetAdmin", { userId: u.user.id, admin: false }, root.token);
    const { json } = await admin("ListAuditEvents", { targetId: u.user.id }, root.token);
    const events = json.events as Json[];
    expect(events.map((e) => e.action)).toEqual(["user.admin", "user.admin", "user.quota"]);
    for (const e of events) {
      expect([e.actorUsername, e.actorId, e.targetUsername]).toEqual(["root", root.id, u.username]);
      expect(e.clientAddress).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    }
    expect(events[2]?.details).toBe("from=default to=5000000");
  });
});

describe(`filestore admin: the CLI against a real server (${MODE})`, () => {
  const filestore = (args: string[], input?: string, config = "root") =>
    run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
      env: { ...process.env, XDG_CONFIG_HOME: join(work, config), FILESTORE_URL: stack.gatewayUrl },
      cwd: work,
    });
  const json = async (args: string[], input?: string) => {
    const r = await filestore([...args, "--json"], input);
    if (r.code !== 0) throw new Error(`filestore ${args.join(" ")}: ${r.code} ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  test("users, create, quota, disable, enable, grant, revoke, reset-password, invites, audit, stats, delete", async () => {
    expect((await filestore(["login", "root", "--password-stdin"], `${password}\n`)).code).toBe(0);
    const name = uniqueName("cli");
    const made = await json(["admin", "create", name, "--quota", "1M", "--password-stdin"], "first pass 1\n");
    expect(made).toMatchObject({
      username: name,
      admin: false,
      quotaBytes: 1048576,
      mustChangePassword: true,
    });
    const listed = (await json(["admin", "users", "--query", name])) as Json[];
    expect(listed.map((u) => u.username)).toEqual([name]);
    expect(await json(["admin", "quota", name, "unlimited"])).toMatchObject({
      quotaBytes: 0,
      defaultQuota: false,
    });
    expect(await json(["admin", "quota", name, "default"])).toMatchObject({ defaultQuota: true });
    expect(await json(["admin", "disable", name, "--reason", "cli test"])).toMatchObject({
      user: { disabled: true },
      sessionsRevoked: 0,
    });
    const refused = await filestore(["login", name, "--password-stdin"], "first pass 1\n", "user");
    expect([refused.code, refused.stderr]).toEqual([
      1,
      "filestore: this account has been disabled by an administrator\n",
    ]);
    expect(await json(["admin", "enable", name])).toMatchObject({ disabled: false });
    expect(await json(["admin", "grant", name])).toMatchObject({ admin: true });
    expect(await json(["admin", "revoke", name])).toMatchObject({ admin: false });
    const reset = await json(["admin", "reset-password", name]);
    expect(reset.temporaryPassword).toHaveLength(24);
    // login after a reset: the second line of stdin is the new password.
    const login = await filestore(
      ["login", name, "--password-stdin"],
      `${reset.temporaryPassword}\nchosen by me 1\n`,
      "user",
    );
    expect([login.code, login.stderr]).toEqual([0, ""]);
    const noNew = await filestore(["login", name, "--password-stdin"], "wrong password\n", "user");
    expect(noNew.code).not.toBe(0);
    // A non-administrator's CLI is refused.
    const denied = await filestore(["admin", "users"], undefined, "user");
    expect([denied.code, denied.stderr]).toEqual([
      1,
      "filestore: this needs an administrator: your account is not one\n",
    ]);

    const inv = await json(["admin", "invite", "--ttl", "2h", "--note", "for erin"]);
    expect(inv.code).toMatch(/^fsi_/);
    expect(((await json(["admin", "invites"])) as Json[]).map((i) => i.id)).toContain(inv.id);
    expect((await filestore(["admin", "uninvite", inv.id])).code).toBe(0);
    expect((await filestore(["admin", "uninvite", inv.id])).code).toBe(4);

    const audit = (await json(["admin", "audit", "--user", name])) as Json[];
    expect(audit.map((e) => e.action)).toEqual([
      "user.reset_password",
      "user.admin",
      "user.admin",
      "user.enable",
      "user.disable",
      "user.quota",
      "user.quota",
      "user.create",
    ]);
    const stats = await json(["admin", "stats"]);
    expect(stats.users).toBeGreaterThan(1);
    expect(stats.admins).toBe(1);

    expect((await filestore(["admin", "delete", name])).code).toBe(2);
    expect(await json(["admin", "delete", name, "--yes"])).toEqual({ filesDeleted: 0 });
    expect((await filestore(["admin", "user", name])).code).toBe(4);
    expect((await filestore(["admin", "frobnicate"])).code).toBe(2);
  }, 120_000);
});

describe(`SIGNUP=invite (${MODE})`, () => {
  let inviteStack: Stack;
  const other = api(() => inviteStack);
  beforeAll(async () => {
    inviteStack = await startStack({ SIGNUP: "invite", ADMIN_USERS: "boss" });
  }, 90_000);
  afterAll(() => inviteStack?.stop(), 60_000);

  test("signup needs a code (RPC, legacy route, CLI); a code works once; ADMIN_USERS may sign up", async () => {
    expect((await other.account("GetSignupPolicy", {})).json.policy).toBe("SIGNUP_POLICY_INVITE");
    const none = await other.account("Signup", { username: uniqueName(), password });
    expect([none.status, reasonsOf(none)]).toEqual([403, ["INVITE_REQUIRED"]]);
    expect((await other.account("Signup", { username: "boss", password })).status).toBe(200);
    const boss = (await other.signin("boss")).json;
    expect((boss.user as Json).admin).toBe(true);
    const token = (boss.tokens as { accessToken: string }).accessToken;
    const code = (await other.admin("CreateInvite", { note: "rpc" }, token)).json.code as string;
    expect(
      (await other.account("Signup", { username: uniqueName(), password, inviteCode: code })).status,
    ).toBe(200);
    const again = await other.account("Signup", { username: uniqueName(), password, inviteCode: code });
    expect([again.status, reasonsOf(again)]).toEqual([403, ["INVITE_REQUIRED"]]);

    const legacy = (fields: Record<string, string>) =>
      fetch(`${inviteStack.gatewayUrl}/user/signup`, {
        method: "POST",
        body: new URLSearchParams(fields),
      }).then((r) => r.json() as Promise<Json>);
    const refused = await legacy({ username: uniqueName(), password });
    expect(refused).toEqual({
      code: 10003,
      msg: "signup on this server needs an invite code from an administrator",
    });
    const legacyCode = (await other.admin("CreateInvite", {}, token)).json.code as string;
    expect(await legacy({ username: uniqueName(), password, invite_code: legacyCode })).toEqual({
      code: 10000,
      msg: "OK",
    });

    const cliCode = (await other.admin("CreateInvite", {}, token)).json.code as string;
    const cli = (args: string[], input: string) =>
      run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
        env: { ...process.env, XDG_CONFIG_HOME: join(work, "invite"), FILESTORE_URL: inviteStack.gatewayUrl },
        cwd: work,
      });
    const name = uniqueName();
    const noCode = await cli(["signup", name, "--password-stdin"], `${password}\n`);
    expect([noCode.code, noCode.stderr]).toEqual([
      1,
      "filestore: signup on this server needs an invite code from an administrator\n",
    ]);
    const withCode = await cli(["signup", name, "--password-stdin", "--invite", cliCode], `${password}\n`);
    expect([withCode.code, withCode.stderr]).toEqual([0, ""]);
  }, 60_000);
});
