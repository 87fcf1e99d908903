// Who is calling: HTTP Basic with an app password (exchanged through the internal
// AppPasswordAuthService) or, for accounts without two-factor sign-in, the account's own password (a
// Signin, as Nextcloud allows), or a Bearer access token. Basic credentials are remembered (by their
// SHA-256, never in clear) for the life of the access token they yielded, so a mounted drive's hundreds of
// requests cost one exchange. Wrong credentials are never remembered: every failed attempt reaches the
// account service, whose per-client limits (the signin limits) then apply to WebDAV as well.
import { Code, ConnectError } from "@connectrpc/connect";
import { type AccessTokenVerifier, bearer, InvalidTokenError } from "../../core/access-token.ts";
import type { ExpiringCache } from "../../core/cache.ts";
import type { DavClients } from "./clients.ts";

/** A caller: the access token every call on its behalf carries, and its account. */
export interface Caller {
  token: string;
  userId: string;
  username: string;
}

export class AuthError extends Error {
  constructor(
    message: string,
    readonly status = 401,
  ) {
    super(message);
  }
}

export interface AuthDeps {
  clients: DavClients;
  verifier: AccessTokenVerifier;
  /** Callers by SHA-256 of their Basic credentials, until their token's expiry (less a margin). */
  basic: ExpiringCache<string, Caller>;
  now: () => number;
}

const MARGIN_MS = 30_000;

export async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return Buffer.from(d).toString("hex");
}

export function basicPair(header: string): [string, string] {
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(header.slice(6).trim(), "base64"));
  } catch {
    throw new AuthError("the Basic credentials are not UTF-8");
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new AuthError("Basic credentials must be username:password");
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

async function stillValid(deps: AuthDeps, token: string): Promise<boolean> {
  try {
    await deps.verifier.verify(token);
    return true;
  } catch (err) {
    if (err instanceof InvalidTokenError) return false;
    throw err;
  }
}

/** An app password's shape ("fsa_" + 43 base64url characters): anything else is tried as the account's. */
const APP_PASSWORD = /^fsa_[A-Za-z0-9_-]{43}$/;

async function exchange(deps: AuthDeps, username: string, password: string, clientIp: string) {
  const headers = { "x-forwarded-for": clientIp };
  try {
    if (APP_PASSWORD.test(password)) {
      const r = await deps.clients.appAuth.exchangeAppPassword(
        { username, appPassword: password, clientAddress: clientIp },
        { headers },
      );
      const until = r.accessTokenExpiresAt ? Number(r.accessTokenExpiresAt.seconds) * 1000 : 0;
      return {
        caller: { token: r.accessToken, userId: r.user?.id ?? "", username: r.user?.username ?? username },
        until,
      };
    }
    const r = await deps.clients.account.signin({ username, password }, { headers });
    const t = r.tokens;
    const until = t?.accessTokenExpiresAt ? Number(t.accessTokenExpiresAt.seconds) * 1000 : 0;
    return {
      caller: {
        token: t?.accessToken ?? "",
        userId: r.user?.id ?? "",
        username: r.user?.username ?? username,
      },
      until,
    };
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    if (err.code === Code.ResourceExhausted) throw new AuthError(err.rawMessage, 429);
    if (err.code === Code.Unavailable) throw err;
    // A wrong pair, a second factor asked for (use an app password), a disabled account, a password change
    // required: all "these credentials do not open WebDAV".
    throw new AuthError(
      err.code === Code.Unauthenticated && /second|factor/i.test(err.rawMessage)
        ? "this account has two-factor sign-in: use an app password"
        : err.rawMessage,
    );
  }
}

/**
 * Forgets the Basic credentials of a request whose token a service refused (the app password revoked, the
 * session ended): the next request exchanges them again, and fails there if they no longer hold.
 */
export async function forgetCredentials(deps: AuthDeps, req: Request): Promise<void> {
  const header = req.headers.get("authorization");
  if (header && /^basic /i.test(header)) deps.basic.delete(await sha256Hex(header.slice(6).trim()));
}

/** The caller of a request, or AuthError (401, or 429 when the account service limits the client). */
export async function authenticate(deps: AuthDeps, req: Request, clientIp: string): Promise<Caller> {
  const header = req.headers.get("authorization");
  if (!header) throw new AuthError("sign in: HTTP Basic with an app password, or a Bearer access token");
  if (/^basic /i.test(header)) {
    const key = await sha256Hex(header.slice(6).trim());
    const known = deps.basic.get(key);
    // The token is checked again (a cache hit in the verifier): a revoked app password or an ended session
    // is refused here even by requests that reach no other service as the caller (dead properties).
    if (known && (await stillValid(deps, known.token))) return known;
    if (known) deps.basic.delete(key);
    const [username, password] = basicPair(header);
    const { caller, until } = await exchange(deps, username, password, clientIp);
    if (until - MARGIN_MS > deps.now()) deps.basic.set(key, caller, until - MARGIN_MS);
    return caller;
  }
  const token = bearer(header);
  if (!token) throw new AuthError("Authorization must be Basic or Bearer");
  try {
    const who = await deps.verifier.verify(token);
    return { token, userId: who.userId, username: who.username };
  } catch (err) {
    if (err instanceof InvalidTokenError) throw new AuthError(err.message);
    throw err;
  }
}
