// Ending a session (Signout, refresh-token replay) refuses its access tokens once the revoked sessions
// have been read again: account → meta → revoked_sessions → ListRevokedSessions → the verifier's set.
import { beforeEach, describe, expect, test } from "bun:test";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { createAccessTokenVerifier } from "../../core/access-token.ts";
import { listThrough, RevokedSessions } from "../../core/revoked-sessions.ts";
import { AccountService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { memoryTransport } from "../lib/clients.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { createMetaClient } from "../lib/meta-client.ts";
import { memoryRateLimiter } from "../lib/ratelimit.ts";
import { codeOf } from "../lib/testing.ts";
import { migrateToLatest, openDatabase } from "../meta/db/database.ts";
import { metaModule } from "../meta/service.ts";
import { generatePrivateJwk, signingKeyFromJwk } from "./keys.ts";
import { accountModule } from "./service.ts";

const secret = "0123456789abcdef0123456789abcdef";
const key = await signingKeyFromJwk(await generatePrivateJwk());
const ACCESS_TTL = 900;

async function setup() {
  const db = openDatabase("sqlite::memory:");
  await migrateToLatest(db);
  const revoked = new RevokedSessions();
  const verifier = createAccessTokenVerifier({ keys: key.localKeys, issuer: "filestore", revoked });
  const interceptors = [
    errorInterceptor(createLogger("test")),
    authInterceptor({ verifier, internalSecret: secret }),
  ];
  const meta = createMetaClient(memoryTransport(metaModule(db), interceptors, secret));
  const mod = accountModule({
    meta,
    key,
    limiter: memoryRateLimiter(),
    issuer: "filestore",
    accessTtlSeconds: ACCESS_TTL,
    refreshTtlSeconds: 3600,
    signinLimit: { perUser: 5, perUserTotal: 1000, perClient: 1000, windowSeconds: 60 },
    log: createLogger("test"),
    now: Date.now,
  });
  const client = createClient(
    AccountService,
    createRouterTransport((r) => mod.routes(r), { router: { interceptors } }),
  );
  const read = listThrough(meta);
  /** One poll of the revoked sessions, as every process makes about once a second. */
  const poll = async () => revoked.apply(await read(revoked.since, new AbortController().signal));
  await client.signup({ username: "alice", password: "correct horse" });
  const signin = async () =>
    (await client.signin({ username: "alice", password: "correct horse" })).tokens ?? assertNever();
  return { db, client, poll, revoked, signin };
}

const assertNever = (): never => {
  throw new Error("no tokens");
};
const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("revocation of access tokens", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    s = await setup();
  });

  test("an access token names its session: the refresh-token family, kept across refreshes", async () => {
    const first = await s.signin();
    const sid = decodeJwt(first.accessToken).sid;
    const family = await s.db.selectFrom("refresh_tokens").select("family_id").executeTakeFirstOrThrow();
    expect(sid).toBe(family.family_id);
    const second = (await s.client.refresh({ refreshToken: first.refreshToken })).tokens;
    expect(decodeJwt(second?.accessToken ?? "").sid).toBe(sid);
    // Another sign-in is another session.
    expect(decodeJwt((await s.signin()).accessToken).sid).not.toBe(sid);
  });

  test("after Signout, the session's access tokens are refused and other sessions keep working", async () => {
    const ended = await s.signin();
    const refreshed = (await s.client.refresh({ refreshToken: ended.refreshToken })).tokens ?? assertNever();
    const other = await s.signin();
    await s.poll();
    expect(await codeOf(s.client.getUserInfo({}, auth(ended.accessToken)))).toBe("ok");

    await s.client.signout({ refreshToken: refreshed.refreshToken });
    await s.poll();
    for (const token of [ended.accessToken, refreshed.accessToken]) {
      expect(await codeOf(s.client.getUserInfo({}, auth(token)))).toBe(Code.Unauthenticated);
    }
    expect(await codeOf(s.client.getUserInfo({}, auth(other.accessToken)))).toBe("ok");
  });

  test("after a refresh-token replay, every access token of that session is refused", async () => {
    const first = await s.signin();
    const second = (await s.client.refresh({ refreshToken: first.refreshToken })).tokens ?? assertNever();
    expect(await codeOf(s.client.refresh({ refreshToken: first.refreshToken }))).toBe(Code.Unauthenticated);
    await s.poll();
    for (const token of [first.accessToken, second.accessToken]) {
      expect(await codeOf(s.client.getUserInfo({}, auth(token)))).toBe(Code.Unauthenticated);
    }
  });

  test("ListRevokedSessions needs no token and lists the ended session until its tokens expire", async () => {
    const t = await s.signin();
    const before = Date.now();
    await s.client.signout({ refreshToken: t.refreshToken });
    const { sessions, now } = await s.client.listRevokedSessions({});
    const sid = decodeJwt(t.accessToken).sid;
    expect(sessions.map((x) => x.sessionId)).toEqual([sid as string]);
    const expiresMs = Number(sessions[0]?.expiresAt?.seconds) * 1000;
    // At least as long as an access token issued at the signout lives.
    expect(expiresMs).toBeGreaterThanOrEqual(before + ACCESS_TTL * 1000 - 1000);
    expect(Number(now?.seconds) * 1000).toBeGreaterThanOrEqual(before - 1000);
  });
});
