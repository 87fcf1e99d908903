// The internal secret: what workers present to meta, and the root that signed download links and
// instant-upload challenges are derived from. Anyone who knows it can forge links and call meta as a
// worker, so services mode refuses a placeholder or a short one; all-in-one needs no setting and keeps a
// random one in its data directory.
import { randomBytes } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Bytes a secret must have at least (256 bits). */
export const MIN_SECRET_BYTES = 32;
/** The command the refusal suggests: 48 random bytes, 64 characters of base64. */
export const MAKE_SECRET = "openssl rand -base64 48";

/** Words that only an example value carries (the placeholder once in compose.yaml, the k8s example). */
const PLACEHOLDER = /change-?me|dev-only|example|placeholder/i;

/**
 * Why `value` may not be used as the secret `name`, or undefined when it may: unset, a placeholder, or
 * shorter than MIN_SECRET_BYTES. The message says how to make a good one.
 */
export function weakSecretReason(name: string, value: string | undefined): string | undefined {
  const how = `make one with \`${MAKE_SECRET}\` and give every worker the same value`;
  if (!value) return `${name} must be set in services mode: ${how}`;
  if (PLACEHOLDER.test(value)) return `${name} is a placeholder, not a secret: ${how}`;
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes < MIN_SECRET_BYTES)
    return `${name} is too short (${bytes} bytes, at least ${MIN_SECRET_BYTES}): ${how}`;
  return undefined;
}

/** `value` when it is a usable secret; throws (the process stops with the reason) otherwise. */
export function requireStrongSecret(name: string, value: string | undefined): string {
  const reason = weakSecretReason(name, value);
  if (reason) throw new Error(reason);
  return value as string;
}

/**
 * The secret kept in `file`, created (random, readable by its owner only) on first use. All-in-one's
 * default: links it signed stay valid across restarts, and no placeholder is ever in use.
 */
export function persistedSecret(file: string): string {
  const kept = readKept(file);
  if (kept) return kept;
  mkdirSync(dirname(file), { recursive: true });
  // Written whole under another name, then linked into place: a crash leaves no partial secret, and of
  // two processes starting on one data directory the second finds and uses the first one's.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${randomBytes(48).toString("base64")}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  const secret = readKept(file);
  if (!secret) throw new Error(`${file} is empty: delete it, and a new secret is made at the next start`);
  return secret;
}

function readKept(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
