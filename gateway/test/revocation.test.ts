// The edge refuses access tokens of ended sessions (the set main.ts keeps current) before any worker sees
// the request: RPCs and the legacy routes alike.
import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { ACCESS_TOKEN_AUDIENCE, JWKS_PATH } from "../../core/access-token.ts";
import { RevokedSessions } from "../../core/revoked-sessions.ts";
import { generatePrivateJwk, signingKeyFromJwk } from "../../workers/account/keys.ts";
import { createGateway, type GatewayOptions } from "../app.ts";
import type { Upstream, Upstreams } from "../upstreams.ts";

const key = await signingKeyFromJwk(await generatePrivateJwk());
const token = (sid: string) =>
  new SignJWT({ typ: "access", name: "alice", sid })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
    .setSubject("u1")
    .setIssuer("filestore")
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("15m")
    .sign(key.privateKey);

function setup(given: Partial<GatewayOptions> = {}) {
  const forwarded: string[] = [];
  // The account worker's JWKS, and an empty answer to anything forwarded.
  const upstream: Upstream = {
    url: "http://worker.internal:9101",
    async fetch(req) {
      if (new URL(req.url).pathname === JWKS_PATH) return Response.json(key.jwks);
      forwarded.push(new URL(req.url).pathname);
      return Response.json({});
    },
  };
  const upstreams = Object.fromEntries(
    ["account", "file", "upload", "download", "transfer"].map((n) => [n, upstream]),
  ) as Upstreams;
  const revoked = new RevokedSessions();
  const app = createGateway({ upstreams, issuer: "filestore", corsOrigins: "*", revoked, ...given });
  return { app, revoked, forwarded };
}

const rpc = (t: string) => ({
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
  body: "{}",
});

describe("edge check of revoked sessions", () => {
  test("an RPC with a token of an ended session is 401 at the edge; other sessions pass", async () => {
    const { app, revoked, forwarded } = setup();
    const [ended, live] = [await token("s-ended"), await token("s-live")];
    const path = "/filestore.file.v1.FileService/ListFiles";
    expect((await app.request(path, rpc(ended))).status).toBe(200);

    revoked.apply({ now: Date.now(), sessions: [{ id: "s-ended", expiresAt: Date.now() + 60_000 }] });
    const refused = await app.request(path, rpc(ended));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toContain("revoked");
    expect((await app.request(path, rpc(live))).status).toBe(200);
    expect(forwarded).toEqual([path, path]);
  });

  test("a legacy route with a token of an ended session answers the legacy token-invalid code", async () => {
    const { app, revoked, forwarded } = setup();
    const ended = await token("s-ended");
    revoked.apply({ now: Date.now(), sessions: [{ id: "s-ended", expiresAt: Date.now() + 60_000 }] });
    const res = await app.request("/file/query", {
      method: "POST",
      body: new URLSearchParams({ username: "alice", token: ended, limit: "5" }),
    });
    const body = (await res.json()) as { code: number; msg: string };
    expect(body.msg).toBe("token invalid; sign in again");
    expect(forwarded).toEqual([]);
  });

  test("a verifier given as undefined leaves the edge's own on every route, /user/info included", async () => {
    const { app, revoked } = setup({ verifier: undefined });
    const info = async (t: string) =>
      (await (
        await app.request("/user/info", {
          method: "POST",
          body: new URLSearchParams({ username: "alice", token: t }),
        })
      ).json()) as { code: number; data?: { Username: string } };
    const [ended, live] = [await token("s-ended"), await token("s-live")];
    revoked.apply({ now: Date.now(), sessions: [{ id: "s-ended", expiresAt: Date.now() + 60_000 }] });
    const ok = await info(live);
    expect([ok.code, ok.data?.Username]).toEqual([0, "alice"]);
    expect((await info(ended)).code).toBe(10005);
  });

  test("ListRevokedSessions passes without a token (the gateway's own poll goes to the same place)", async () => {
    const { app, forwarded } = setup();
    const res = await app.request("/filestore.account.v1.AccountService/ListRevokedSessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(forwarded).toEqual(["/filestore.account.v1.AccountService/ListRevokedSessions"]);
  });
});
