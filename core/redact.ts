// What a log line must never carry: credentials. Fields named like one (authorization, cookie, password,
// token, secret, signature…) are replaced whole; in any other text, bearer tokens, JWTs and the signing
// parts of URLs (X-Amz-Signature and the rest of a presigned query, a signed link's sig, a token
// parameter) are masked. Used by every logger, the gateway's and the workers'.

const SECRET_KEY =
  /authorization|cookie|passw|secret|token|signature|^sig$|credential|api[-_]?key|^otp$|totp_code|app_password/i;
const MASK = "[redacted]";

// A query parameter whose value signs or authenticates the URL.
const SECRET_PARAM =
  /([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|access_token|refresh_token|password|key)=)[^&\s"'#]*/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** `text` with credentials in it masked. */
export function redactText(text: string): string {
  return text.replace(SECRET_PARAM, `$1${MASK}`).replace(BEARER, `$1 ${MASK}`).replace(JWT, MASK);
}

/** A copy of log fields with secret-named fields and credentials in text masked (nested up to 3 deep). */
export function redactFields(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      SECRET_KEY.test(key) && value !== undefined && value !== null ? MASK : redactValue(value, depth);
  }
  return out;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redactText(value);
  if (depth >= 3 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return redactFields(value as Record<string, unknown>, depth + 1);
}
