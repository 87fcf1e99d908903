// The account service's settings: its signing key, token lifetimes, sign-in limits, TOTP issuer, the
// signup policy (the administrators named by ADMIN_USERS are in the base configuration).
import { join } from "node:path";
import { type BaseConfig, type Env, int } from "../lib/config.ts";

export interface AccountConfig {
  jwt: {
    /** The Ed25519 signing key as a JWK (JWT_PRIVATE_JWK); unset: the key file. */
    privateJwk: string | undefined;
    /** Where the signing key is kept (JWT_KEY_FILE), created on first start. */
    keyFile: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  /** Sign-in limits (see workers/account/signin-limits.ts). */
  signinLimit: { perUser: number; perUserTotal: number; perClient: number; windowSeconds: number };
  /** The issuer authenticator apps show next to a TOTP entry (TOTP_ISSUER). */
  totpIssuer: string;
  /** Who may sign up (SIGNUP): anyone, holders of an invite code, or no one (administrators create accounts). */
  signup: SignupMode;
}

export type SignupMode = "open" | "invite" | "closed";
const SIGNUP_MODES: readonly SignupMode[] = ["open", "invite", "closed"];

function signupMode(env: Env): SignupMode {
  const v = (env.SIGNUP || "open").trim().toLowerCase();
  if (!SIGNUP_MODES.includes(v as SignupMode))
    throw new Error(`SIGNUP must be one of ${SIGNUP_MODES.join(", ")} (got "${env.SIGNUP}")`);
  return v as SignupMode;
}

export function loadAccountConfig(env: Env, base: BaseConfig): AccountConfig {
  return {
    jwt: {
      privateJwk: env.JWT_PRIVATE_JWK || undefined,
      keyFile: env.JWT_KEY_FILE || join(base.dataDir, "keys", "jwt-signing-key.jwk"),
      accessTtlSeconds: int(env, "ACCESS_TOKEN_TTL_SECONDS", 15 * 60),
      refreshTtlSeconds: int(env, "REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
    },
    signinLimit: {
      perUser: int(env, "SIGNIN_LIMIT_PER_USER", 10),
      perUserTotal: int(env, "SIGNIN_LIMIT_PER_USER_TOTAL", 100),
      perClient: int(env, "SIGNIN_LIMIT_PER_CLIENT", 60),
      windowSeconds: int(env, "SIGNIN_LIMIT_WINDOW_SECONDS", 300),
    },
    totpIssuer: env.TOTP_ISSUER || "filestore",
    signup: signupMode(env),
  };
}
