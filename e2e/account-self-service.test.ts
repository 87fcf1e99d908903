// Account self-service end to end, in either mode, through the gateway: a password change ends the other
// sessions (their refresh fails, their access tokens are refused within seconds) and keeps this one; the
// sessions list; TOTP sign-in (codes not replayable, recovery codes once; the legacy route refuses such
// accounts); app passwords (exchanged internally, never settings); deleting an account frees its files.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { totpCode } from "../workers/account/second-factor.ts";
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
} from "./harness.ts";

const SECRET = "e2e-internal-secret-0123456789abcdef";
/** Revocation is read about once a second by every process; allow a loaded machine plenty more. */
const WITHIN_MS = 15_000;
const MODE = process.env.FILESTORE_TEST_MODE ?? "allinone";

let stack: Stack;
let work: string;
beforeAll(async () => {
  stack = await startStack({ INTERNAL_SECRET: SECRET, GC_GRACE_SECONDS: "0", GC_INTERVAL_SECONDS: "0" });
  work = mkdtempSync(join(tmpdir(), "filestore-account-e2e-"));
}, 90_000);
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

type User = Awaited<ReturnType<typeof signedInUser>>;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const account = (method: string, body: unknown, token?: string, headers: Record<string, string> = {}) =>
  connectCall(stack.gatewayUrl, `${ACCOUNT}/${method}`, body, {
    ...(token ? bearer(token) : {}),
    ...headers,
  });
const signin = (u: { username: string; password: string }, secondFactor = "", headers = {}) =>
  account("Signin", { username: u.username, password: u.password, secondFactor }, undefined, headers);
const tokensOf = (r: { json: Record<string, unknown> }) =>
  r.json.tokens as { accessToken: string; refreshToken: string };
const reasonsOf = (r: { json: Record<string, unknown> }) =>
  ((r.json.details as { debug?: { reason?: string } }[] | undefined) ?? []).map((d) => d.debug?.reason);
/** What a token gets from ListFiles through the gateway: its HTTP status. */
const listStatus = async (token: string) =>
  (await connectCall(stack.gatewayUrl, `${FILES}/ListFiles`, {}, bearer(token))).status;

async function upload(who: User, name: string, data: Uint8Array<ArrayBuffer>): Promise<string> {
  const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: bearer(who.accessToken),
    body: data,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
}

describe(`account self-service (${MODE})`, () => {
  test("ChangePassword: wrong current password refused; other sessions end (refresh and access), this one stays", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const other = tokensOf(await signin(u));
    const wrong = await account(
      "ChangePassword",
      { currentPassword: "not it at all", newPassword: "brand new pw" },
      u.accessToken,
    );
    expect([wrong.status, wrong.json.code]).toEqual([403, "permission_denied"]);
    const ok = await account(
      "ChangePassword",
      { currentPassword: u.password, newPassword: "brand new pw" },
      u.accessToken,
    );
    expect([ok.status, ok.json.sessionsRevoked]).toEqual([200, 1]);
    expect((await account("Refresh", { refreshToken: other.refreshToken })).json.code).toBe(
      "unauthenticated",
    );
    expect(await eventually(async () => (await listStatus(other.accessToken)) === 401, WITHIN_MS)).toBe(true);
    expect(await listStatus(u.accessToken)).toBe(200);
    expect((await account("Refresh", { refreshToken: u.refreshToken })).status).toBe(200);
    expect((await signin(u)).json.code).toBe("unauthenticated");
    expect((await signin({ ...u, password: "brand new pw" })).status).toBe(200);
  });

  test("sessions: listed with client and user agent, this one marked; revoking one ends it", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const cli = tokensOf(await signin(u, "", { "user-agent": "filestore-cli/e2e" }));
    const listed = await account("ListSessions", {}, u.accessToken);
    expect(listed.status).toBe(200);
    const sessions = listed.json.sessions as {
      id: string;
      userAgent?: string;
      clientAddress?: string;
      current?: boolean;
    }[];
    expect(sessions).toHaveLength(2);
    const theCli = sessions.find((s) => s.userAgent === "filestore-cli/e2e");
    expect(theCli?.clientAddress).toBeTruthy();
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(theCli?.current).toBeUndefined();
    expect((await account("RevokeSession", { sessionId: theCli?.id }, u.accessToken)).status).toBe(200);
    expect((await account("Refresh", { refreshToken: cli.refreshToken })).json.code).toBe("unauthenticated");
    expect(await eventually(async () => (await listStatus(cli.accessToken)) === 401, WITHIN_MS)).toBe(true);
    const missing = await account("RevokeSession", { sessionId: theCli?.id }, u.accessToken);
    expect([missing.status, missing.json.code]).toEqual([404, "not_found"]);
  });

  test("TOTP: the code is required, not replayable; recovery codes work once; the legacy signin refuses the account", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const begun = await account("BeginTotpEnrollment", { password: u.password }, u.accessToken);
    expect(begun.status).toBe(200);
    const secret = begun.json.secret as string;
    expect(begun.json.otpauthUri as string).toContain(`secret=${secret}`);
    const confirmed = await account(
      "ConfirmTotpEnrollment",
      { code: totpCode(secret, Date.now()) },
      u.accessToken,
    );
    expect(confirmed.status).toBe(200);
    const recovery = confirmed.json.recoveryCodes as string[];
    expect(recovery).toHaveLength(10);

    const bare = await signin(u);
    expect([bare.status, bare.json.code, reasonsOf(bare)]).toEqual([
      401,
      "unauthenticated",
      ["SECOND_FACTOR_REQUIRED"],
    ]);
    // The next step's code (inside the accepted window) signs in once; the same code again is a replay.
    const code = totpCode(secret, Date.now() + 30_000);
    expect((await signin(u, code)).status).toBe(200);
    const replay = await signin(u, code);
    expect([replay.status, reasonsOf(replay)]).toEqual([401, ["SECOND_FACTOR_REQUIRED"]]);
    expect((await signin(u, recovery[0])).status).toBe(200);
    expect((await signin(u, recovery[0])).status).toBe(401);
    const status = await account("GetTwoFactorStatus", {}, u.accessToken);
    expect([status.json.enabled, status.json.recoveryCodesLeft]).toEqual([true, 9]);

    const legacy = await fetch(`${stack.gatewayUrl}/user/signin`, {
      method: "POST",
      body: new URLSearchParams({ username: u.username, password: u.password }),
    });
    const body = (await legacy.json()) as { code: number; msg: string };
    expect(body.code).toBe(10004);
    expect(body.msg).toContain("two-factor");
  });

  test("app passwords: exchanged only internally, for a token that reaches files but never settings", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const created = await account("CreateAppPassword", { name: "rclone" }, u.accessToken);
    expect(created.status).toBe(200);
    const secret = created.json.secret as string;
    const exchange = "filestore.account.v1.AppPasswordAuthService/ExchangeAppPassword";
    const body = { username: u.username, appPassword: secret };
    expect((await connectCall(stack.gatewayUrl, exchange, body)).status).toBe(404);
    expect((await connectCall(stack.accountUrl, exchange, body)).json.code).toBe("permission_denied");
    const ex = await connectCall(stack.accountUrl, exchange, body, { "x-filestore-internal": SECRET });
    expect(ex.status).toBe(200);
    const appToken = ex.json.accessToken as string;
    expect(await listStatus(appToken)).toBe(200);
    const change = await account(
      "ChangePassword",
      { currentPassword: u.password, newPassword: "taken over!" },
      appToken,
    );
    expect([change.status, change.json.code]).toEqual([403, "permission_denied"]);
    expect((await account("CreateAppPassword", { name: "more" }, appToken)).json.code).toBe(
      "permission_denied",
    );
    // It is no password for Signin (the web UI's way in).
    expect((await signin({ username: u.username, password: secret })).status).toBe(401);
    const listed = (await account("ListAppPasswords", {}, u.accessToken)).json.appPasswords as {
      id: string;
      lastUsedAt?: string;
    }[];
    expect(listed.map((a) => Boolean(a.lastUsedAt))).toEqual([true]);
    expect((await account("RevokeAppPassword", { id: listed[0]?.id }, u.accessToken)).status).toBe(200);
    expect(await eventually(async () => (await listStatus(appToken)) === 401, WITHIN_MS)).toBe(true);
    expect(
      (await connectCall(stack.accountUrl, exchange, body, { "x-filestore-internal": SECRET })).status,
    ).toBe(401);
  });

  test("DeleteAccount: needs the password; files purged and their content freed by GC (shared content stays); links and sign-in die", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const keeper = await signedInUser(stack.gatewayUrl);
    const lone = randomBytes(150_000);
    const shared = randomBytes(120_000);
    const loneId = await upload(u, "lone.bin", lone);
    await upload(u, "shared.bin", shared);
    await upload(keeper, "shared.bin", shared);
    const link = await connectCall(
      stack.gatewayUrl,
      "filestore.download.v1.DownloadService/CreateDownloadUrl",
      { fileId: loneId },
      bearer(u.accessToken),
    );
    const url = new URL(link.json.url as string, stack.gatewayUrl);
    expect((await fetch(url)).status).toBe(200);

    const wrong = await account("DeleteAccount", { password: "not the password" }, u.accessToken);
    expect([wrong.status, wrong.json.code]).toEqual([403, "permission_denied"]);
    const del = await account("DeleteAccount", { password: u.password }, u.accessToken);
    expect([del.status, del.json.filesDeleted]).toEqual([200, "2"]);
    expect((await signin(u)).status).toBe(401);
    expect((await account("Refresh", { refreshToken: u.refreshToken })).json.code).toBe("unauthenticated");
    expect(await eventually(async () => (await listStatus(u.accessToken)) === 401, WITHIN_MS)).toBe(true);
    const dead = await fetch(url);
    expect([403, 404, 410]).toContain(dead.status);

    const gc = await connectCall(
      stack.fileUrl,
      "filestore.file.v1.FileAdminService/RunGarbageCollection",
      {},
      {
        "x-filestore-internal": SECRET,
      },
    );
    expect(gc.status).toBe(200);
    const blob = (data: Uint8Array) =>
      connectCall(
        stack.metaUrl,
        "filestore.meta.v1.ContentService/GetBlob",
        { sha256: sha256(data) },
        {
          "x-filestore-internal": SECRET,
        },
      );
    expect((await blob(lone)).json.code).toBe("not_found");
    expect(((await blob(shared)).json.blob as { refcount: number }).refcount).toBe(1);
    const onDisk = (data: Uint8Array) => [...new Bun.Glob(`**/${sha256(data)}.*`).scanSync(stack.dataDir)];
    expect(onDisk(lone)).toEqual([]);
    expect(onDisk(shared)).toHaveLength(1);
  });
});

describe(`filestore CLI: login with two-factor, 2fa, passwd, sessions (${MODE})`, () => {
  const filestore = (args: string[], input?: string) =>
    run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
      env: { ...process.env, XDG_CONFIG_HOME: join(work, "config"), FILESTORE_URL: stack.gatewayUrl },
      cwd: work,
    });

  test("sessions lists and revokes; passwd changes the password and signs the others out; login takes --otp", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const login = await filestore(["login", u.username, "--password-stdin"], `${u.password}\n`);
    expect(login.code).toBe(0);
    const listed = await filestore(["sessions", "--json"]);
    expect(listed.code).toBe(0);
    const sessions = JSON.parse(listed.stdout) as { id: string; current: boolean; userAgent: string }[];
    expect(sessions).toHaveLength(2);
    const other = sessions.find((s) => !s.current);
    expect(sessions.find((s) => s.current)?.userAgent).toContain("connect-es");
    expect((await filestore(["sessions"])).stdout).toContain(`* ${sessions.find((s) => s.current)?.id}`);
    const revoke = await filestore(["sessions", "revoke", other?.id ?? ""]);
    expect([revoke.code, revoke.stdout]).toEqual([0, `signed out session ${other?.id}\n`]);
    expect((await account("Refresh", { refreshToken: u.refreshToken })).json.code).toBe("unauthenticated");
    expect((await filestore(["sessions", "frobnicate"])).code).toBe(2);

    const extra = tokensOf(await signin(u));
    const wrong = await filestore(["passwd", "--password-stdin"], "not the password\nnew password 1\n");
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("wrong password");
    const passwd = await filestore(["passwd", "--password-stdin"], `${u.password}\nnew password 1\n`);
    expect([passwd.code, passwd.stdout]).toEqual([
      0,
      "password changed; 1 other session(s) signed out (this one stays signed in)\n",
    ]);
    expect((await account("Refresh", { refreshToken: extra.refreshToken })).json.code).toBe(
      "unauthenticated",
    );
    expect((await filestore(["whoami"])).code).toBe(0);

    // Two-factor on: login without a code cannot ask (no terminal) and fails; with --otp it signs in.
    const t = tokensOf(await signin({ ...u, password: "new password 1" }));
    const begun = await account("BeginTotpEnrollment", { password: "new password 1" }, t.accessToken);
    const secret = begun.json.secret as string;
    await account("ConfirmTotpEnrollment", { code: totpCode(secret, Date.now()) }, t.accessToken);
    // 2fa: the status, and new recovery codes (password and a current code; a recovery code refused).
    const status = await filestore(["2fa", "--json"]);
    expect(JSON.parse(status.stdout)).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    const regen = (otp: string) =>
      filestore(["2fa", "recovery-codes", "--password-stdin", "--json", "--otp", otp], "new password 1\n");
    const refused = await regen("abcde-fghij");
    expect([refused.code === 0, refused.stderr]).toEqual([
      false,
      "filestore: code must be a current 6-digit code from the authenticator (not a recovery code)\n",
    ]);
    const fresh = await regen(totpCode(secret, Date.now() + 30_000));
    expect(fresh.code).toBe(0);
    const { recoveryCodes } = JSON.parse(fresh.stdout) as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);
    const noCode = await filestore(["login", u.username, "--password-stdin"], "new password 1\n");
    expect([noCode.code, noCode.stderr]).toEqual([
      2,
      "filestore: this account uses two-factor sign-in: give a code with --otp <code>\n",
    ]);
    const withCode = await filestore(
      ["login", u.username, "--password-stdin", "--otp", recoveryCodes[0] ?? ""],
      "new password 1\n",
    );
    expect([withCode.code, withCode.stderr]).toEqual([0, ""]);
    const all = await filestore(["sessions", "revoke", "all"]);
    expect(all.code).toBe(0);
    expect((await filestore(["whoami"])).code).toBe(3);
  });
});
