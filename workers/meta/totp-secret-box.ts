// TOTP secrets encrypted at rest. A database dump (or a backup, or a read-only SQL injection) must not
// hand out every user's second factor, so meta stores them sealed with AES-256-GCM under a key derived
// (HKDF-SHA-256) from INTERNAL_SECRET: the one server secret every deployment already has outside the
// database (services mode requires a strong one; all-in-one keeps a random one in its data directory).
// Changing INTERNAL_SECRET therefore makes stored TOTP secrets unreadable: such users then fail closed
// (their sign-in is refused with a clear error) until the previous INTERNAL_SECRET is restored.
//
// Stored form: "v1:" + base64url(iv ‖ ciphertext ‖ tag); the user id is the additional data, so a sealed
// secret copied onto another user's row does not open. A value without the prefix is a plaintext secret
// written before encryption: it is still read, and meta seals it in place on first read (getTotp).

const PREFIX = "v1:";
const IV_BYTES = 12;
/** HKDF's context: a key for this purpose only, whatever else INTERNAL_SECRET derives. */
const INFO = "filestore/totp-secret/v1";
const enc = new TextEncoder();

/** A stored secret cannot be opened: wrong key (INTERNAL_SECRET changed) or damaged value. */
export class TotpSecretKeyError extends Error {}

export interface TotpSecretBox {
  seal(userId: string, secret: string): Promise<string>;
  /** The plaintext of a stored value (sealed or legacy plaintext); TotpSecretKeyError when it will not open. */
  open(userId: string, stored: string): Promise<string>;
}

/** Whether a stored value is already sealed (a legacy plaintext one is not). */
export const isSealed = (stored: string) => stored.startsWith(PREFIX);

async function deriveKey(serverSecret: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", enc.encode(serverSecret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: enc.encode("filestore"), info: enc.encode(INFO) },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** The box over INTERNAL_SECRET (`serverSecret`). */
export function totpSecretBox(serverSecret: string): TotpSecretBox {
  const key = deriveKey(serverSecret);
  return {
    async seal(userId, secret) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: enc.encode(userId) },
        await key,
        enc.encode(secret),
      );
      const out = new Uint8Array(IV_BYTES + sealed.byteLength);
      out.set(iv);
      out.set(new Uint8Array(sealed), IV_BYTES);
      return PREFIX + Buffer.from(out).toString("base64url");
    },
    async open(userId, stored) {
      if (!isSealed(stored)) return stored;
      const raw = Buffer.from(stored.slice(PREFIX.length), "base64url");
      try {
        const plain = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: raw.subarray(0, IV_BYTES), additionalData: enc.encode(userId) },
          await key,
          raw.subarray(IV_BYTES),
        );
        return new TextDecoder().decode(plain);
      } catch {
        throw new TotpSecretKeyError(
          "the stored TOTP secret cannot be decrypted: INTERNAL_SECRET is not the one it was stored under " +
            "(restore the previous value: see README, Accounts and security)",
        );
      }
    },
  };
}

/** No INTERNAL_SECRET given to meta: every use of a TOTP secret fails closed. */
export const noTotpSecretBox: TotpSecretBox = {
  seal: async () => {
    throw new TotpSecretKeyError("TOTP secrets cannot be stored: meta was started without INTERNAL_SECRET");
  },
  open: async () => {
    throw new TotpSecretKeyError("TOTP secrets cannot be read: meta was started without INTERNAL_SECRET");
  },
};
