// The original system read every parameter from the query string OR an urlencoded/multipart body.
import type { Context } from "hono";

export async function legacyParams(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...c.req.query() };
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    const body = await c.req.parseBody();
    for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** "YYYY-MM-DD HH:MM:SS" (UTC), the original's DATETIME rendering. */
export function legacyTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

export const LegacyCode = {
  ok: 10000,
  invalidParams: 10001,
  serverError: 10002,
  signupFailed: 10003,
  signinFailed: 10004,
  tokenInvalid: 10005,
  fileExists: 10006,
  userNotFound: 10007,
} as const;
