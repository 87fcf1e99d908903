// The original system read every parameter from the query string OR an urlencoded/multipart body.
import type { Context } from "hono";
import { clientError } from "../../workers/lib/failure.ts";

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

/**
 * The `msg` of a legacy "the server failed" answer (10002, or -6 on the upload routes): what failed — a
 * service unavailable, the server's storage full, else "internal error" — with the request id. Errors the
 * message does not say as they are go to the log under that id.
 */
export function serverFailureMessage(c: { get(key: "requestId"): string }, err: unknown): string {
  const rid = c.get("requestId");
  const e = clientError(err, rid);
  if (e !== err) console.error(JSON.stringify({ msg: "legacy route failed", rid, err: String(err) }));
  return e.rawMessage;
}
