import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import Redis from "ioredis";
import { SignJWT } from "jose";
import { ACCESS_TOKEN_AUDIENCE } from "../../core/access-token.ts";
import type { Logger } from "../lib/log.ts";
import { memoryRateLimiter, type RateLimiter, redisRateLimiter } from "../lib/ratelimit.ts";
import { codeOf } from "../lib/testing.ts";
import * as account from "./account.ts";
import { generatePrivateJwk, type SigningKey, signingKeyFromJwk } from "./keys.ts";
import { setupAccount, testKey } from "./testing.ts";

const key = testKey;
const otherKey = await signingKeyFromJwk(await generatePrivateJwk());
const setup = setupAccount;

const code = codeOf;

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("AccountService", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    s = await setup();
  });

  test("signup stores an argon2id hash, never the password", async () => {
    const { user } = await s.client.signup({ username: "alice", password: "correct horse" });
    expect(user?.username).toBe("alice");
    const row = await s.db.selectFrom("users").selectAll().executeTakeFirstOrThrow();
    expect(row.password_hash.startsWith("$argon2id$")).toBe(true);
    expect(row.password_hash).not.toContain("correct horse");
  });

  test("duplicate usernames, in any case, are AlreadyExists", async () => {
    await s.client.signup({ username: "alice", password: "correct horse" });
    expect(await code(s.client.signup({ username: "ALICE", password: "another pass" }))).toBe(
      Code.AlreadyExists,
    );
  });

  test.each([
    ["", "empty"],
    ["ab", "too short"],
    ["a".repeat(65), "too long"],
    ["../etc", "path traversal"],
    ["bob\u0000", "NUL"],
    ["bob smith", "space"],
    [".hidden", "leading dot"],
    ["名前です", "non-ASCII"],
    ["a'; DROP TABLE users; --", "SQL"],
  ])("invalid username %p (%s) is InvalidArgument and writes nothing", async (username) => {
    const err = await s.client
      .signup({ username, password: "correct horse" })
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain("username must be 3-64 characters");
    expect(await s.db.selectFrom("users").selectAll().execute()).toHaveLength(0);
  });

  test("password bounds", async () => {
    expect(await code(s.client.signup({ username: "alice", password: "short" }))).toBe(Code.InvalidArgument);
    expect(await code(s.client.signup({ username: "alice", password: "x".repeat(1025) }))).toBe(
      Code.InvalidArgument,
    );
    expect(await code(s.client.signup({ username: "alice", password: "x".repeat(1024) }))).toBe("ok");
    expect(await code(s.client.signup({ username: "bobby", password: "密码密码密码密码" }))).toBe("ok");
  });

  test("wrong password and unknown user get the same answer", async () => {
    await s.client.signup({ username: "alice", password: "correct horse" });
    const a = await s.client
      .signin({ username: "alice", password: "wrong horse" })
      .catch((e) => ConnectError.from(e));
    const b = await s.client
      .signin({ username: "nobody", password: "wrong horse" })
      .catch((e) => ConnectError.from(e));
    expect(a).toBeInstanceOf(ConnectError);
    expect(b).toBeInstanceOf(ConnectError);
    expect([(a as ConnectError).code, (a as ConnectError).rawMessage]).toEqual([
      (b as ConnectError).code,
      (b as ConnectError).rawMessage,
    ]);
    expect((a as ConnectError).code).toBe(Code.Unauthenticated);
  });

  test("signin returns a verifiable access token and GetUserInfo works with it", async () => {
    await s.client.signup({ username: "alice", password: "correct horse" });
    const { tokens, user } = await s.client.signin({ username: "Alice", password: "correct horse" });
    expect(tokens?.tokenType).toBe("Bearer");
    expect(tokens?.refreshToken).toMatch(/^fsr_/);
    const info = await s.client.getUserInfo({}, auth(tokens?.accessToken ?? ""));
    expect(info.user?.id).toBe(user?.id as string);
    expect(info.user?.username).toBe("alice");
    // Only the hash of the refresh token is stored.
    const stored = await s.db.selectFrom("refresh_tokens").select("token_hash").execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(tokens?.refreshToken as string);
  });

  test("refresh rotates; replaying the old refresh token revokes the new one too", async () => {
    await s.client.signup({ username: "alice", password: "correct horse" });
    const first = (await s.client.signin({ username: "alice", password: "correct horse" })).tokens;
    const second = (await s.client.refresh({ refreshToken: first?.refreshToken ?? "" })).tokens;
    expect(second?.refreshToken).not.toBe(first?.refreshToken as string);
    expect(await code(s.client.getUserInfo({}, auth(second?.accessToken ?? "")))).toBe("ok");
    expect(await code(s.client.refresh({ refreshToken: first?.refreshToken ?? "" }))).toBe(
      Code.Unauthenticated,
    );
    expect(await code(s.client.refresh({ refreshToken: second?.refreshToken ?? "" }))).toBe(
      Code.Unauthenticated,
    );
  });

  test("signout revokes the refresh token; signing out twice or with junk is Unauthenticated", async () => {
    await s.client.signup({ username: "alice", password: "correct horse" });
    const t = (await s.client.signin({ username: "alice", password: "correct horse" })).tokens;
    await s.client.signout({ refreshToken: t?.refreshToken ?? "" });
    expect(await code(s.client.refresh({ refreshToken: t?.refreshToken ?? "" }))).toBe(Code.Unauthenticated);
    expect(await code(s.client.signout({ refreshToken: "fsr_nope" }))).toBe(Code.Unauthenticated);
    expect(await code(s.client.refresh({ refreshToken: "" }))).toBe(Code.Unauthenticated);
  });

  test("GetUserInfo refuses missing and forged tokens", async () => {
    const { user } = await s.client.signup({ username: "alice", password: "correct horse" });
    const { tokens } = await s.client.signin({ username: "alice", password: "correct horse" });
    const good = tokens?.accessToken ?? "";
    const [h, p, sig] = good.split(".") as [string, string, string];
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const sign = (k: SigningKey, extra: object = {}) =>
      new SignJWT({ typ: "access", name: "alice", ...extra })
        .setProtectedHeader({ alg: "EdDSA", kid: k.kid })
        .setSubject(user?.id ?? "")
        .setIssuer("filestore")
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(k.privateKey);
    const forged = {
      none: `${b64({ alg: "none", typ: "JWT" })}.${p}.`,
      noneNoDot: `${b64({ alg: "none" })}.${p}`,
      wrongKey: await sign(otherKey),
      wrongKeyRightKid: `${h}.${(await sign(otherKey)).split(".")[1]}.${(await sign(otherKey)).split(".")[2]}`,
      tampered: `${h}.${b64({ ...claims, name: "admin", sub: "someone-else" })}.${sig}`,
      hs256: `${b64({ alg: "HS256", kid: key.kid })}.${p}.${sig}`,
      expired: await new SignJWT({ typ: "access", name: "alice" })
        .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
        .setSubject(user?.id ?? "")
        .setIssuer("filestore")
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(key.privateKey),
      wrongType: await sign(key, { typ: "refresh" }),
      garbage: "not-a-jwt",
    };
    expect(await code(s.client.getUserInfo({}))).toBe(Code.Unauthenticated);
    for (const [name, token] of Object.entries(forged)) {
      expect([name, await code(s.client.getUserInfo({}, auth(token)))]).toEqual([name, Code.Unauthenticated]);
    }
    expect(await code(s.client.getUserInfo({}, auth(good)))).toBe("ok");
  });

  test("a token of a deleted account is refused", async () => {
    await s.client.signup({ username: "alice", password: "correct horse" });
    const { tokens } = await s.client.signin({ username: "alice", password: "correct horse" });
    await s.db.deleteFrom("users").execute();
    expect(await code(s.client.getUserInfo({}, auth(tokens?.accessToken ?? "")))).toBe(Code.Unauthenticated);
  });

  test("JWKS publishes the public key only", async () => {
    const res = await s.mod.http?.(new Request("http://x/.well-known/jwks.json"), "");
    const jwks = (await res?.json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]?.kid).toBe(key.kid);
    expect(jwks.keys[0]?.d).toBeUndefined();
  });
});

describe("signin rate limits", () => {
  test("per username and client: failures beyond the limit are ResourceExhausted, even with the right password", async () => {
    const s = await setup({ perUser: 3 });
    await s.client.signup({ username: "alice", password: "correct horse" });
    for (let i = 0; i < 3; i++) {
      expect(await code(account.signin(s.deps, "alice", "wrong!!!", "10.0.0.1"))).toBe(Code.Unauthenticated);
    }
    const err = await account
      .signin(s.deps, "alice", "correct horse", "10.0.0.1")
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(/try again in \d+ s/);
    // The owner, at another address, is not locked out by someone else's guesses.
    expect(await code(account.signin(s.deps, "alice", "correct horse", "10.0.0.2"))).toBe("ok");
    // Other users are unaffected.
    await s.client.signup({ username: "bob", password: "correct horse" });
    expect(await code(account.signin(s.deps, "bob", "correct horse", "10.0.0.1"))).toBe("ok");
  });

  test("per client: attempts beyond the limit are ResourceExhausted", async () => {
    const s = await setup({ perClient: 4 });
    await s.client.signup({ username: "alice", password: "correct horse" });
    for (let i = 0; i < 4; i++) await account.signin(s.deps, "alice", "correct horse", "10.0.0.9");
    expect(await code(account.signin(s.deps, "alice", "correct horse", "10.0.0.9"))).toBe(
      Code.ResourceExhausted,
    );
    expect(await code(account.signin(s.deps, "alice", "correct horse", "10.0.0.10"))).toBe("ok");
  });

  test("a successful signin clears the user's failure count", async () => {
    const s = await setup({ perUser: 2 });
    await s.client.signup({ username: "alice", password: "correct horse" });
    await code(account.signin(s.deps, "alice", "wrong!!!", "ip"));
    await account.signin(s.deps, "alice", "correct horse", "ip");
    await code(account.signin(s.deps, "alice", "wrong!!!", "ip"));
    expect(await code(account.signin(s.deps, "alice", "correct horse", "ip"))).toBe("ok");
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
const limiters: [string, () => RateLimiter][] = [["memory", () => memoryRateLimiter()]];
if (redisUrl) {
  const redis = new Redis(redisUrl);
  afterAll(() => redis.quit());
  limiters.push(["redis", () => redisRateLimiter(redis, `acct-test${Date.now()}${Math.random()}:`)]);
}

function capture(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const push = (msg: string, f?: Record<string, unknown>) => lines.push({ msg, ...f });
  return { lines, debug: push, info: push, warn: push, error: push };
}
const lockouts = (log: { lines: Record<string, unknown>[] }) =>
  log.lines.filter((l) => l.msg === "signin lockout");

for (const [name, limiter] of limiters) {
  describe(`signin limits that lock out the guesser, not the owner (${name})`, () => {
    test("an attacker at A cannot lock the owner out at B; the lockout is logged once, without the password", async () => {
      const log = capture();
      const s = await setup({ perUser: 10, perUserTotal: 100, limiter: limiter(), log });
      await s.client.signup({ username: "alice", password: "correct horse" });
      for (let i = 0; i < 10; i++)
        expect(await code(account.signin(s.deps, "alice", "wrong pass!", "203.0.113.66"))).toBe(
          Code.Unauthenticated,
        );
      expect(await code(account.signin(s.deps, "alice", "correct horse", "203.0.113.66"))).toBe(
        Code.ResourceExhausted,
      );
      expect(await code(account.signin(s.deps, "alice", "correct horse", "198.51.100.7"))).toBe("ok");
      expect(await code(account.signin(s.deps, "ALICE", "correct horse", "198.51.100.7"))).toBe("ok");
      const [line, ...more] = lockouts(log);
      expect(more).toEqual([]);
      expect(line).toMatchObject({ scope: "user+client", client: "203.0.113.66", user: "alice", count: 10 });
      expect(line?.userId).toEqual(expect.any(String));
      expect(JSON.stringify(log.lines)).not.toContain("wrong pass!");
    });

    test("a guess spread over many addresses: past the total only fresh clients may try, so the owner still gets in", async () => {
      const log = capture();
      const s = await setup({ perUser: 10, perUserTotal: 20, limiter: limiter(), log });
      await s.client.signup({ username: "alice", password: "correct horse" });
      for (let i = 0; i < 20; i++)
        expect(await code(account.signin(s.deps, "alice", "wrong pass!", `203.0.113.${i}`))).toBe(
          Code.Unauthenticated,
        );
      // A client that has already failed at this user waits, even with the right password.
      expect(await code(account.signin(s.deps, "alice", "correct horse", "203.0.113.1"))).toBe(
        Code.ResourceExhausted,
      );
      // A fresh address gets one try: a wrong one and it waits too.
      expect(await code(account.signin(s.deps, "alice", "wrong pass!", "203.0.113.200"))).toBe(
        Code.Unauthenticated,
      );
      expect(await code(account.signin(s.deps, "alice", "wrong pass!", "203.0.113.200"))).toBe(
        Code.ResourceExhausted,
      );
      // The owner, at a fresh address, with the right password.
      expect(await code(account.signin(s.deps, "alice", "correct horse", "198.51.100.7"))).toBe("ok");
      // Other users are untouched.
      await s.client.signup({ username: "bob", password: "correct horse" });
      expect(await code(account.signin(s.deps, "bob", "correct horse", "203.0.113.1"))).toBe("ok");
      expect(lockouts(log).map((l) => [l.scope, l.user])).toEqual([["user", "alice"]]);
    });

    test("concurrent guesses from one client cannot slip past the limit", async () => {
      const s = await setup({ perUser: 5, limiter: limiter() });
      await s.client.signup({ username: "alice", password: "correct horse" });
      const codes = await Promise.all(
        Array.from({ length: 20 }, () => code(account.signin(s.deps, "alice", "wrong pass!", "203.0.113.9"))),
      );
      expect(codes.filter((c) => c === Code.Unauthenticated)).toHaveLength(5);
      expect(codes.filter((c) => c === Code.ResourceExhausted)).toHaveLength(15);
    });

    test("IPv6 clients are counted by /64: a new address in the same /64 does not start afresh", async () => {
      const s = await setup({ perUser: 3, limiter: limiter() });
      await s.client.signup({ username: "alice", password: "correct horse" });
      for (let i = 1; i <= 3; i++)
        await code(account.signin(s.deps, "alice", "wrong pass!", `2001:db8:1:2::${i.toString(16)}`));
      expect(await code(account.signin(s.deps, "alice", "correct horse", "2001:db8:1:2:ffff::9"))).toBe(
        Code.ResourceExhausted,
      );
      expect(await code(account.signin(s.deps, "alice", "correct horse", "2001:db8:1:3::1"))).toBe("ok");
    });

    test("unknown usernames are counted like known ones and logged by hash only", async () => {
      const log = capture();
      const s = await setup({ perUser: 2, limiter: limiter(), log });
      for (let i = 0; i < 2; i++) await code(account.signin(s.deps, "correct horse", "x", "203.0.113.5"));
      expect(await code(account.signin(s.deps, "correct horse", "x", "203.0.113.5"))).toBe(
        Code.ResourceExhausted,
      );
      const [line] = lockouts(log);
      expect(line?.userSha256).toMatch(/^[0-9a-f]{16}$/);
      expect(JSON.stringify(log.lines)).not.toContain("correct horse");
    });

    test("a client over its attempts is logged once", async () => {
      const log = capture();
      const s = await setup({ perClient: 2, limiter: limiter(), log });
      for (let i = 0; i < 5; i++) await code(account.signin(s.deps, `nobody${i}`, "x", "203.0.113.77"));
      expect(lockouts(log).map((l) => [l.scope, l.client])).toEqual([["client", "203.0.113.77"]]);
    });
  });
}
