// Accounts end to end through the gateway (and straight at the workers): the happy path, and every kind
// of bad input getting the right Connect code while writing nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ACCOUNT, connectCall, type Stack, signedInUser, startStack, uniqueName } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await sharedStack();
}, 60_000);
afterAll(() => stack?.stop());

const call = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  connectCall(stack.gatewayUrl, `${ACCOUNT}/${path}`, body, headers);

describe(`accounts through the gateway (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("signup, signin, user info, refresh rotation, replay detection, signout", async () => {
    const username = uniqueName();
    const password = "correct horse battery";
    const up = await call("Signup", { username, password });
    expect(up.status).toBe(200);
    expect((up.json.user as { username: string }).username).toBe(username);

    const signin = await call("Signin", { username, password });
    expect(signin.status).toBe(200);
    const t1 = signin.json.tokens as { accessToken: string; refreshToken: string; tokenType: string };
    expect(t1.tokenType).toBe("Bearer");

    const info = await call("GetUserInfo", {}, { authorization: `Bearer ${t1.accessToken}` });
    expect(info.status).toBe(200);
    expect((info.json.user as { username: string }).username).toBe(username);
    expect(info.headers.get("x-request-id")).toBeTruthy();

    const r2 = await call("Refresh", { refreshToken: t1.refreshToken });
    expect(r2.status).toBe(200);
    const t2 = r2.json.tokens as { accessToken: string; refreshToken: string };
    expect(t2.refreshToken).not.toBe(t1.refreshToken);
    expect((await call("GetUserInfo", {}, { authorization: `Bearer ${t2.accessToken}` })).status).toBe(200);

    // Replaying the first refresh token: refused, and the rotated one dies with it.
    const replay = await call("Refresh", { refreshToken: t1.refreshToken });
    expect([replay.status, replay.json.code]).toEqual([401, "unauthenticated"]);
    expect((await call("Refresh", { refreshToken: t2.refreshToken })).json.code).toBe("unauthenticated");

    // A new sign-in is a new family: signout revokes it.
    const t3 = (await call("Signin", { username, password })).json.tokens as { refreshToken: string };
    expect((await call("Signout", { refreshToken: t3.refreshToken })).status).toBe(200);
    expect((await call("Refresh", { refreshToken: t3.refreshToken })).json.code).toBe("unauthenticated");
  });

  test("wrong password and unknown user: same code, same message", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const a = await call("Signin", { username: u.username, password: "wrong password" });
    const b = await call("Signin", { username: uniqueName("ghost"), password: "wrong password" });
    expect(a.status).toBe(401);
    expect([a.status, a.json]).toEqual([b.status, b.json]);
  });

  test("duplicate username is AlreadyExists (409)", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const dup = await call("Signup", { username: u.username.toUpperCase(), password: "another password" });
    expect([dup.status, dup.json.code]).toEqual([409, "already_exists"]);
  });

  // Unknown JSON fields are ignored on purpose (Connect's forward compatibility between versions).
  test.each([
    { name: "malformed JSON", body: '{"username": "abc", ' },
    { name: "wrong field type", body: '{"username":123,"password":"12345678"}' },
    { name: "missing fields", body: "{}" },
    { name: "path traversal username", body: '{"username":"../../etc/passwd","password":"12345678"}' },
    { name: "username with NUL", body: '{"username":"abc\\u0000def","password":"12345678"}' },
    {
      name: "10 000-character username",
      body: JSON.stringify({ username: "a".repeat(10_000), password: "12345678" }),
    },
    { name: "short password", body: '{"username":"validname","password":"123"}' },
  ])("Signup with $name → invalid_argument (400), nothing written", async ({ body }) => {
    const r = await call("Signup", body);
    expect([r.status, r.json.code]).toEqual([400, "invalid_argument"]);
    expect(typeof r.json.message).toBe("string");
    // Nothing was written: the name from the body (when parseable) cannot sign in.
    const name = (() => {
      try {
        return JSON.parse(body).username;
      } catch {
        return undefined;
      }
    })();
    if (typeof name === "string" && name.length <= 64) {
      expect((await call("Signin", { username: name, password: "12345678" })).json.code).toBe(
        "unauthenticated",
      );
    }
  });

  test("wrong content type → 415", async () => {
    const res = await fetch(`${stack.gatewayUrl}/${ACCOUNT}/Signup`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"username":"abcdef","password":"12345678"}',
    });
    expect(res.status).toBe(415);
  });

  test("oversized body → resource_exhausted, nothing written", async () => {
    const username = uniqueName();
    const r = await call("Signup", { username, password: "p".repeat(5 * 1024 * 1024) });
    expect(r.json.code).toBe("resource_exhausted");
    expect((await call("Signin", { username, password: "12345678" })).json.code).toBe("unauthenticated");
  });

  test("GetUserInfo without or with a broken token → 401 at the edge and at the worker", async () => {
    for (const base of [stack.gatewayUrl, stack.accountUrl]) {
      const none = await connectCall(base, `${ACCOUNT}/GetUserInfo`, {});
      expect([base, none.status, none.json.code]).toEqual([base, 401, "unauthenticated"]);
      const bad = await connectCall(base, `${ACCOUNT}/GetUserInfo`, {}, { authorization: "Bearer a.b.c" });
      expect([base, bad.status]).toEqual([base, 401]);
      const basic = await connectCall(base, `${ACCOUNT}/GetUserInfo`, {}, { authorization: "Basic YTpi" });
      expect([base, basic.status]).toEqual([base, 401]);
    }
  });

  test("alg=none and tampered tokens are refused at the edge and at the worker", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    const [h, p, s] = u.accessToken.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const forged = [
      `${b64({ alg: "none", typ: "JWT" })}.${p}.`,
      `${h}.${b64({ ...claims, exp: claims.exp + 86_400 })}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}${s.endsWith("AA") ? "BB" : "AA"}`,
    ];
    for (const base of [stack.gatewayUrl, stack.accountUrl]) {
      for (const token of forged) {
        const r = await connectCall(base, `${ACCOUNT}/GetUserInfo`, {}, { authorization: `Bearer ${token}` });
        expect([base, token.slice(0, 20), r.status]).toEqual([base, token.slice(0, 20), 401]);
      }
    }
  });

  test("filestore.meta.v1 (UserService here) is not reachable through the gateway, and refuses callers without the internal secret", async () => {
    const viaGateway = await connectCall(stack.gatewayUrl, "filestore.meta.v1.UserService/GetUser", {
      username: "x",
    });
    expect(viaGateway.status).toBe(404);
    const direct = await connectCall(stack.metaUrl, "filestore.meta.v1.UserService/GetUser", {
      username: "x",
    });
    expect([direct.status, direct.json.code]).toEqual([403, "permission_denied"]);
    const wrong = await connectCall(
      stack.metaUrl,
      "filestore.meta.v1.UserService/CreateUser",
      { username: "intruder", passwordHash: "x" },
      { "x-filestore-internal": "guess" },
    );
    expect(wrong.json.code).toBe("permission_denied");
  });

  test("signin is rate-limited per username (failures), with a retry hint", async () => {
    const u = await signedInUser(stack.gatewayUrl);
    let last = { status: 0, json: {} as Record<string, unknown> };
    for (let i = 0; i < 11; i++)
      last = await call("Signin", { username: u.username, password: "not the password" });
    expect([last.status, last.json.code]).toEqual([429, "resource_exhausted"]);
    expect(String(last.json.message)).toMatch(/try again in \d+ s/);
    // Even the right password waits out the window.
    expect((await call("Signin", { username: u.username, password: u.password })).json.code).toBe(
      "resource_exhausted",
    );
  });

  test("CORS preflight for Connect-Web", async () => {
    const res = await fetch(`${stack.gatewayUrl}/${ACCOUNT}/GetUserInfo`, {
      method: "OPTIONS",
      headers: {
        origin: "http://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version,authorization",
      },
    });
    expect(res.status).toBeLessThan(300);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "authorization", "x-grpc-web"])
      expect(allowed).toContain(h);
  });
});

describe("per-client signin limit", () => {
  let limited: Stack;
  beforeAll(async () => {
    limited = await startStack({ SIGNIN_LIMIT_PER_CLIENT: "5" });
  }, 60_000);
  afterAll(() => limited?.stop());

  test("a client over the limit is refused; a spoofed X-Forwarded-For does not help", async () => {
    const u = await signedInUser(limited.gatewayUrl); // 1 attempt
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await connectCall(
        limited.gatewayUrl,
        `${ACCOUNT}/Signin`,
        { username: u.username, password: u.password },
        { "x-forwarded-for": `203.0.113.${i}` },
      );
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
