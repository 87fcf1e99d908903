// The original system read every parameter from the query string OR an urlencoded/multipart body.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { clientError } from "../../core/failure.ts";
import { log } from "../log.ts";

/**
 * Most bytes of a body of legacy parameters (a few short fields). Its token is among them, so it is read
 * before the sender is known: what a stranger may make the gateway hold is bounded by this.
 */
export const MAX_PARAMS_BYTES = 64 * 1024;

/** The body, if it is at most `max` bytes; undefined (and the rest left unread) if it is longer. */
async function bodyAtMost(req: Request, max: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (Number(req.headers.get("content-length")) > max) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body?.getReader();
  for (let r = await reader?.read(); r && !r.done; r = await reader?.read()) {
    size += r.value.byteLength;
    if (size > max) {
      reader?.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(r.value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export async function legacyParams(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...c.req.query() };
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    const bytes = await bodyAtMost(c.req.raw, MAX_PARAMS_BYTES);
    if (!bytes) {
      const msg = `the parameters are larger than ${MAX_PARAMS_BYTES / 1024} KiB`;
      throw new HTTPException(413, { res: c.json({ code: LegacyCode.invalidParams, msg }, 413) });
    }
    const body = await new Response(bytes, { headers: { "content-type": type } }).formData();
    for (const [k, v] of body) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** A byte count among the parameters (at most 16 digits), or undefined. */
export const sizeParam = (v: string | undefined) =>
  /^\d{1,16}$/.test(v ?? "") ? BigInt(v as string) : undefined;

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
  if (e !== err) log("error", "legacy route failed", { rid, err: String(err) });
  return e.rawMessage;
}
