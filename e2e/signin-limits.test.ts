// Sign-in limits behind a proxy the gateway trusts (TRUSTED_PROXIES): each client is counted on its own
// address, someone else's guesses never lock the owner out, and a Redis outage (services mode) loosens
// the limits to per-process ones instead of failing every sign-in.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ACCOUNT,
  connectCall,
  eventually,
  freePorts,
  MODE,
  type Stack,
  signedInUser,
  startStack,
  uniqueName,
} from "./harness.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

const signin = (stack: Stack, body: { username: string; password: string }, forwardedFor?: string) =>
  connectCall(
    stack.gatewayUrl,
    `${ACCOUNT}/Signin`,
    body,
    forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
  );

/** The JSON lines of a services-mode worker's log (every replica of it). */
function logLines(stack: Stack, service: string): Record<string, unknown>[] {
  const dir = join(stack.runDir as string, "logs");
  return readdirSync(dir)
    .filter((f) => f === `${service}.log` || f.startsWith(`${service}-`))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe(`signin limits behind a trusted proxy hop (${MODE})`, () => {
  let stack: Stack;
  beforeAll(async () => {
    // The test's requests come from 127.0.0.1 as a load balancer's would, carrying X-Forwarded-For.
    stack = await startStack({ TRUSTED_PROXIES: "127.0.0.1,::1" });
  }, 60_000);
  afterAll(() => stack?.stop());

  test("70 failures from one forwarded client do not block another forwarded client", async () => {
    const owner = await signedInUser(stack.gatewayUrl);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 70; i++) {
      const r = await signin(
        stack,
        { username: uniqueName("nobody"), password: "guess guess" },
        "198.51.100.1",
      );
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    // SIGNIN_LIMIT_PER_CLIENT (60) attempts, then that client waits.
    expect(Object.fromEntries(statuses)).toEqual({ 401: 60, 429: 10 });
    expect((await signin(stack, owner, "198.51.100.1")).status).toBe(429);
    // Another client behind the same proxy is its own bucket.
    const other = await signin(stack, owner, "203.0.113.7, 198.51.100.2");
    expect([other.status, other.json.user]).toEqual([
      200,
      expect.objectContaining({ username: owner.username }),
    ]);
  }, 120_000);

  test("the owner signs in from another address after 10 wrong passwords elsewhere", async () => {
    const owner = await signedInUser(stack.gatewayUrl);
    for (let i = 0; i < 10; i++)
      expect((await signin(stack, { ...owner, password: "not the password" }, "198.51.100.66")).status).toBe(
        401,
      );
    const there = await signin(stack, owner, "198.51.100.66");
    expect([there.status, there.json.code]).toEqual([429, "resource_exhausted"]);
    expect(String(there.json.message)).toMatch(/from your address; try again in \d+ s/);
    expect((await signin(stack, owner, "198.51.100.9")).status).toBe(200);
    if (stack.mode === "services") {
      const lockouts = logLines(stack, "account").filter(
        (l) => l.msg === "signin lockout" && l.user === owner.username,
      );
      expect(lockouts).toEqual([
        expect.objectContaining({ level: "warn", scope: "user+client", client: "198.51.100.66", count: 10 }),
      ]);
      expect(JSON.stringify(lockouts)).not.toContain("not the password");
    }
  }, 120_000);
});

describe.skipIf(MODE !== "services")("Redis down (services mode)", () => {
  let redis: RedisServer;
  let stack: Stack;
  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    redis = await startRedisServer(port);
    stack = await startStack({ REDIS_URL: redis.url });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  test("Signin keeps answering (never 500) and the account worker warns once; limits go back to Redis", async () => {
    const owner = await signedInUser(stack.gatewayUrl);
    await redis.kill();
    for (let i = 0; i < 5; i++) {
      expect((await signin(stack, owner)).status).toBe(200);
      expect((await signin(stack, { ...owner, password: "not the password" })).status).toBe(401);
    }
    const degraded = () => logLines(stack, "account").filter((l) => String(l.msg).startsWith("redis failed"));
    expect(degraded()).toEqual([expect.objectContaining({ level: "warn" })]);

    await redis.restart();
    const back = await eventually(async () => {
      expect((await signin(stack, owner)).status).toBe(200);
      return logLines(stack, "account").some((l) => l.msg === "rate limits back on redis");
    }, 20_000);
    expect(back).toBe(true);
    expect(degraded()).toHaveLength(1);
  }, 120_000);
});
