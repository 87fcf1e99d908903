// Sign-in limits that slow guessing without letting anyone lock a user out from elsewhere. Three windows:
//  - attempts per client (any username): a client trying many passwords or many users;
//  - attempts per (username, client), cleared by a success: the guessing client waits, the owner at another
//    address does not;
//  - failures per username from all clients: past it (a guess spread over many addresses) only clients
//    that have not tried this username in the window may try, once — the owner at a fresh address still
//    gets in with the right password, a spread attack drops to one guess per address and window.
// Clients are counted by network (clientNetwork: an IPv6 host holds a whole /64).

import { clientNetwork } from "../../core/client-address.ts";
import { resourceExhausted } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { RateLimiter } from "../lib/ratelimit.ts";

export interface SigninLimit {
  /** Attempts from one client per window, whatever the username (SIGNIN_LIMIT_PER_CLIENT). */
  perClient: number;
  /** Attempts at one username from one client per window, until one succeeds (SIGNIN_LIMIT_PER_USER). */
  perUser: number;
  /** Failures at one username from all clients per window (SIGNIN_LIMIT_PER_USER_TOTAL). */
  perUserTotal: number;
  windowSeconds: number;
}

export interface SigninGate {
  /** A wrong password or an unknown username; logs the lockout this failure starts, if any. */
  failed(account: { id: string; username: string } | undefined): Promise<void>;
  /** The right password: this client's attempts at this username are forgotten. */
  succeeded(): Promise<void>;
}

/**
 * Lockouts are logged with the account's name and id when the username names one, and otherwise with a
 * hash of what was typed: a username field sometimes holds a password typed one field early.
 */
function who(typed: string, account: { id: string; username: string } | undefined) {
  if (account) return { user: account.username, userId: account.id };
  return { userSha256: new Bun.CryptoHasher("sha256").update(typed).digest("hex").slice(0, 16) };
}

/**
 * Counts this attempt and throws ResourceExhausted (with the wait) when a limit holds; otherwise returns
 * what to record once the password has been checked.
 */
export async function signinGate(
  limiter: RateLimiter,
  limit: SigninLimit,
  log: Logger,
  username: string,
  clientIp: string,
): Promise<SigninGate> {
  const w = limit.windowSeconds;
  const client = clientNetwork(clientIp);
  const lockout = (scope: string, count: number, resetInSeconds: number, fields: object = {}) =>
    log.warn("signin lockout", { scope, client, count, retryInSeconds: resetInSeconds, ...fields });

  const attempts = await limiter.hit(`signin:ip:${client}`, w);
  if (attempts.count > limit.perClient) {
    if (attempts.count === limit.perClient + 1) lockout("client", attempts.count, attempts.resetInSeconds);
    throw resourceExhausted(
      `too many sign-in attempts from your address; try again in ${attempts.resetInSeconds} s`,
    );
  }
  // encodeURIComponent keeps ":" out of the name, so no username can spell another pair's key.
  const typed = username.toLowerCase().slice(0, 64);
  const name = encodeURIComponent(typed);
  const pairKey = `signin:pair:${name}:${client}`;
  const totalKey = `signin:user:${name}`;
  // The pair counts attempts, not failures, from the start: concurrent guesses cannot all slip in before
  // the first of them fails.
  const [pair, total] = await Promise.all([limiter.hit(pairKey, w), limiter.peek(totalKey)]);
  if (pair.count > limit.perUser) {
    throw resourceExhausted(
      `too many failed sign-ins for this user from your address; try again in ${pair.resetInSeconds} s`,
    );
  }
  if (total.count >= limit.perUserTotal && pair.count > 1) {
    throw resourceExhausted(
      `too many failed sign-ins for this user; try again in ${Math.min(pair.resetInSeconds, total.resetInSeconds)} s`,
    );
  }
  return {
    async failed(account) {
      const failures = await limiter.hit(totalKey, w);
      if (pair.count === limit.perUser)
        lockout("user+client", pair.count, pair.resetInSeconds, who(typed, account));
      if (failures.count === limit.perUserTotal)
        lockout("user", failures.count, failures.resetInSeconds, who(typed, account));
    },
    async succeeded() {
      await limiter.reset(pairKey);
    },
  };
}
