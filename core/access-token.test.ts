// The identity a verified access token yields: its session and its scope (tokens exchanged for an app
// password are scoped "app"; a scope this build does not know narrows the same way, never widens).
import { describe, expect, test } from "bun:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_AUDIENCE, createAccessTokenVerifier } from "./access-token.ts";

const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { crv: "Ed25519" });
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), alg: ACCESS_TOKEN_ALG }] });
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ typ: "access", name: "alice", sid: "s-1", ...claims })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG })
    .setSubject("u-1")
    .setIssuer("filestore")
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);

describe("access token scope", () => {
  const verifier = createAccessTokenVerifier({ keys: jwks, issuer: "filestore" });
  test("a full sign-in has no scope; an app password's token is scoped app; an unknown scope narrows too", async () => {
    expect((await verifier.verify(await sign({}))).scope).toBeUndefined();
    const app = await verifier.verify(await sign({ scope: "app", sid: "app-password-id" }));
    expect([app.scope, app.sid, app.userId]).toEqual(["app", "app-password-id", "u-1"]);
    expect((await verifier.verify(await sign({ scope: "admin" }))).scope).toBe("app");
  });
});
