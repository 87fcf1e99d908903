// Connect errors of the services WebDAV calls, as WebDAV status codes (RFC 4918 11, RFC 4331).
import { Code, type ConnectError } from "@connectrpc/connect";
import { davError } from "./xml.ts";

const STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 405,
  [Code.FailedPrecondition]: 409,
  [Code.ResourceExhausted]: 507,
  [Code.Unavailable]: 503,
};

/** A Connect error as a WebDAV answer (507 carries quota-not-exceeded's precondition element). */
export function davStatusOf(err: ConnectError): Response {
  const status = STATUS[err.code] ?? 500;
  if (status === 507) return davError(507, "quota-not-exceeded", err.rawMessage);
  if (status === 500) return text(500, "internal error");
  return text(status, err.rawMessage);
}

/** The Connect JSON error of a data plane's answer, as a WebDAV answer. */
export async function planeStatusOf(res: Response): Promise<Response> {
  let code = "";
  let message = res.statusText;
  try {
    const j = (await res.json()) as { code?: string; message?: string };
    code = j.code ?? "";
    message = j.message ?? message;
  } catch {}
  if (res.status === 507 || res.status === 413 || code === "resource_exhausted")
    return davError(507, "quota-not-exceeded", message);
  return text(res.status >= 500 ? 502 : res.status, message);
}

export const text = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(status === 204 || status === 304 ? null : `${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
