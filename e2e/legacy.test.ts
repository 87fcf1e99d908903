// The legacy account routes (shared/LEGACY_API.md) as a migrating client calls them: parameters in the
// query string or in an urlencoded or multipart body, the original JSON shapes and codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ACCOUNT, connectCall, type Stack, startStack, uniqueName } from "./harness.ts";

let stack: Stack;
beforeAll(async () => {
  // An administrator by name, for the disabled / reset-password answers of /user/signin.
  stack = await startStack({ ADMIN_USERS: "legacyboss" });
}, 60_000);
afterAll(() => stack?.stop());

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
async function post(path: string, body?: BodyInit, query = "") {
  const res = await fetch(`${stack.gatewayUrl}${path}${query}`, { method: "POST", body });
  return { status: res.status, type: res.headers.get("content-type") ?? "", json: await res.json() };
}

describe(`legacy /user routes (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("signup (form), signin, info: original shapes", async () => {
    const username = uniqueName();
    const up = await post("/user/signup", form({ username, password: "legacy-pass" }));
    expect(up.json).toEqual({ code: 10000, msg: "OK" });

    const si = await post("/user/signin", form({ username, password: "legacy-pass" }));
    expect(si.type).toContain("application/json");
    expect(si.json.code).toBe(10000);
    expect(Object.keys(si.json.data).sort()).toEqual([
      "DownloadEntry",
      "Location",
      "Token",
      "UploadEntry",
      "Username",
    ]);
    expect(si.json.data.Username).toBe(username);
    expect(si.json.data.UploadEntry).toMatch(/^https?:\/\//);

    // The pages put username and token in the query string.
    const info = await post("/user/info", undefined, `?${form({ username, token: si.json.data.Token })}`);
    expect(info.json.code).toBe(0);
    expect(info.json.msg).toBe("OK");
    expect(info.json.data.Username).toBe(username);
    expect(info.json.data.SignupAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(info.json.data.LastActive).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  test("parameters in the query string and in a multipart body work too", async () => {
    const username = uniqueName();
    const up = await post("/user/signup", undefined, `?${form({ username, password: "legacy-pass" })}`);
    expect(up.json.code).toBe(10000);
    const fd = new FormData();
    fd.set("username", username);
    fd.set("password", "legacy-pass");
    expect((await post("/user/signin", fd)).json.code).toBe(10000);
  });

  test("signup: invalid params 10001, duplicate 10003", async () => {
    expect((await post("/user/signup", form({ username: "ab", password: "legacy-pass" }))).json.code).toBe(
      10001,
    );
    expect((await post("/user/signup", form({ username: uniqueName(), password: "1234" }))).json.code).toBe(
      10001,
    );
    expect(
      (await post("/user/signup", form({ username: "bad/name", password: "legacy-pass" }))).json.code,
    ).toBe(10001);
    expect((await post("/user/signup", form({}))).json.code).toBe(10001);
    const username = uniqueName();
    expect((await post("/user/signup", form({ username, password: "legacy-pass" }))).json.code).toBe(10000);
    expect((await post("/user/signup", form({ username, password: "legacy-pass" }))).json.code).toBe(10003);
  });

  test("signin failure is 10004", async () => {
    const r = await post("/user/signin", form({ username: uniqueName(), password: "whatever1" }));
    expect(r.json.code).toBe(10004);
    expect(r.json.data).toBeUndefined();
  });

  test("signin of a disabled account, or one whose password an administrator reset: 10004 saying so", async () => {
    const call = (path: string, body: unknown, token?: string) =>
      connectCall(stack.gatewayUrl, path, body, token ? { authorization: `Bearer ${token}` } : {});
    await call(`${ACCOUNT}/Signup`, { username: "legacyboss", password: "legacy-pass" });
    const boss = (await call(`${ACCOUNT}/Signin`, { username: "legacyboss", password: "legacy-pass" })).json;
    const token = (boss.tokens as { accessToken: string }).accessToken;
    const username = uniqueName();
    await post("/user/signup", form({ username, password: "legacy-pass" }));
    const admin = (method: string, body: unknown) =>
      call(`filestore.admin.v1.AdminService/${method}`, body, token);
    const user = (await admin("GetUser", { username })).json.user as { id: string };
    await admin("DisableUser", { userId: user.id });
    expect((await post("/user/signin", form({ username, password: "legacy-pass" }))).json).toEqual({
      code: 10004,
      msg: "this account has been disabled by an administrator",
    });
    await admin("EnableUser", { userId: user.id });
    const reset = await admin("ResetPassword", { userId: user.id, newPassword: "temporary-pass" });
    expect(reset.status).toBe(200);
    const r = await post("/user/signin", form({ username, password: "temporary-pass" }));
    expect(r.json.code).toBe(10004);
    expect(r.json.msg).toContain("an administrator reset this account's password");
    expect(r.json.data).toBeUndefined();
  });

  test("info: missing, forged or someone else's token is 10005", async () => {
    const a = uniqueName();
    const b = uniqueName();
    for (const u of [a, b]) await post("/user/signup", form({ username: u, password: "legacy-pass" }));
    const tokenA = (await post("/user/signin", form({ username: a, password: "legacy-pass" }))).json.data
      .Token;
    expect((await post("/user/info", form({ username: a }))).json.code).toBe(10005);
    expect((await post("/user/info", form({ username: a, token: `${tokenA}x` }))).json.code).toBe(10005);
    expect((await post("/user/info", form({ username: a, token: "0".repeat(40) }))).json.code).toBe(10005);
    expect((await post("/user/info", form({ username: b, token: tokenA }))).json.code).toBe(10005);
  });

  test("GET /user/signup and /user/signin redirect to the web UI", async () => {
    for (const p of ["/user/signup", "/user/signin"]) {
      const res = await fetch(`${stack.gatewayUrl}${p}`, { redirect: "manual" });
      expect(res.status).toBe(302);
      const page = await fetch(new URL(res.headers.get("location") ?? "", stack.gatewayUrl));
      expect(res.headers.get("location")).toBe(p === "/user/signup" ? "/?view=signup" : "/?view=signin");
      expect(page.status).toBe(200);
      // The web UI, which opens on the form the view parameter names (e2e/browser.test.ts drives it).
      expect(await page.text()).toContain('<script type="module" src="/assets/app.js">');
    }
  });
});
