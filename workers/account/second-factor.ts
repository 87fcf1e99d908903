// TOTP two-factor sign-in (RFC 6238 through the otpauth package: SHA-1, 6 digits, 30 s, as every
// authenticator app expects) and one-time recovery codes. A code is accepted from the step before to the
// step after now (clock drift) and only once: meta records the last accepted step, and a code of that or
// an earlier step is refused (claimTotpStep is one conditional update, so concurrent uses cannot both win).

import { Code } from "@connectrpc/connect";
import { Secret, TOTP } from "otpauth";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { sha256Hex } from "./tokens.ts";

const PERIOD = 30;
const DIGITS = 6;
/** Codes of one step either side of now are accepted. */
const WINDOW = 1;
/** 160 bits, RFC 4226's recommendation. */
const SECRET_BYTES = 20;
export const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

const totp = (secret: string, label = "", issuer = "") =>
  new TOTP({
    issuer,
    label,
    algorithm: "SHA1",
    digits: DIGITS,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });

/** A fresh secret (base32) and its otpauth:// URI for authenticator apps (shown as a QR code by the UI). */
export function newTotpSecret(issuer: string, username: string): { secret: string; uri: string } {
  const secret = new Secret({ size: SECRET_BYTES }).base32;
  return { secret, uri: totp(secret, username, issuer).toString() };
}

/** The time step a 6-digit code of `secret` belongs to (within the window around now), or undefined. */
export function totpStep(secret: string, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? undefined : TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}

/** The code of `secret` at `now` (tests and the CLI's own checks). */
export const totpCode = (secret: string, now: number) => totp(secret).generate({ timestamp: now });

/** Ten fresh recovery codes as shown ("xxxxx-xxxxx", 50 random bits each) and the hashes meta keeps. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const bytes = crypto.getRandomValues(new Uint8Array(10));
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b & 31]).join("");
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
  return { codes, hashes: codes.map((c) => sha256Hex(normalise(c))) };
}

/** What the user typed, without spaces and dashes, lower-cased. */
const normalise = (typed: string) => typed.replace(/[\s-]/g, "").toLowerCase();

/**
 * Checks a second factor of a user whose TOTP is on: a current code (claimed, so never accepted twice) or
 * an unused recovery code (consumed). False for anything else.
 */
export async function useSecondFactor(
  meta: MetaClient,
  user: { id: string; secret: string },
  typed: string,
  now: number,
): Promise<boolean> {
  const code = normalise(typed);
  if (/^\d{6}$/.test(code)) {
    const step = totpStep(user.secret, code, now);
    if (step === undefined) return false;
    return (await meta.claimTotpStep({ userId: user.id, step: BigInt(step) })).claimed;
  }
  if (code.length === 10 && [...code].every((c) => RECOVERY_ALPHABET.includes(c)))
    return (await meta.useRecoveryCode({ userId: user.id, codeHash: sha256Hex(code) })).used;
  return false;
}

/** Sign-in of an account with two-factor on, without a code or with a wrong one: ask for (another) code. */
export const secondFactorRequired = (message: string) =>
  reasonError(message, Code.Unauthenticated, Reason.SECOND_FACTOR_REQUIRED);
