// The access-token signing key (Ed25519). Kept in a file (0600) or given as a JWK in the environment so
// that every replica of the account service signs with the same key and restarts keep tokens valid.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";
import { ACCESS_TOKEN_ALG } from "../../core/access-token.ts";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
  /** Verification against this key without a network round trip. */
  localKeys: JWTVerifyGetKey;
}

export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { crv: "Ed25519", extractable: true });
  return exportJWK(privateKey);
}

export async function signingKeyFromJwk(jwk: JWK): Promise<SigningKey> {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) {
    throw new Error("the JWT signing key must be an Ed25519 private JWK (kty OKP, crv Ed25519)");
  }
  const pub: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  const kid = await calculateJwkThumbprint(pub);
  const privateKey = (await importJWK({ ...jwk, alg: ACCESS_TOKEN_ALG }, ACCESS_TOKEN_ALG)) as CryptoKey;
  const jwks: JSONWebKeySet = { keys: [{ ...pub, kid, alg: ACCESS_TOKEN_ALG, use: "sig" }] };
  return { kid, privateKey, jwks, localKeys: createLocalJWKSet(jwks) };
}

export async function loadSigningKey(opts: { privateJwk?: string; keyFile: string }): Promise<SigningKey> {
  if (opts.privateJwk) return signingKeyFromJwk(JSON.parse(opts.privateJwk));
  if (existsSync(opts.keyFile)) return signingKeyFromJwk(JSON.parse(readFileSync(opts.keyFile, "utf8")));
  const jwk = await generatePrivateJwk();
  mkdirSync(dirname(opts.keyFile), { recursive: true, mode: 0o700 });
  // "wx": if another process created it meanwhile, fail and read theirs instead.
  try {
    writeFileSync(opts.keyFile, JSON.stringify(jwk), { mode: 0o600, flag: "wx" });
  } catch {
    return signingKeyFromJwk(JSON.parse(readFileSync(opts.keyFile, "utf8")));
  }
  return signingKeyFromJwk(jwk);
}
