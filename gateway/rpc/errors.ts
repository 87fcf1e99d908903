// Errors the gateway answers itself, in the wire format of the caller's protocol
// (Connect unary, Connect streaming, gRPC-Web or gRPC), and its failures to reach a worker.
import type { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { clientError, failureHeaders, UnreachableError } from "../../core/failure.ts";

const httpStatus: Record<string, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  resource_exhausted: 429,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
};
const grpcCode: Record<string, number> = {
  invalid_argument: 3,
  not_found: 5,
  permission_denied: 7,
  resource_exhausted: 8,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
};

export type RpcCode = keyof typeof grpcCode;

export function rpcError(
  contentType: string,
  code: RpcCode,
  message: string,
  headers: HeadersInit = {},
): Response {
  const h = new Headers(headers);
  if (contentType.startsWith("application/grpc")) {
    // gRPC and gRPC-Web: status in headers ("trailers-only" response).
    h.set("content-type", contentType.split(";")[0] ?? "application/grpc");
    h.set("grpc-status", String(grpcCode[code]));
    h.set("grpc-message", encodeURIComponent(message));
    return new Response(null, { status: 200, headers: h });
  }
  const json = JSON.stringify({ code, message });
  if (contentType.startsWith("application/connect+")) {
    // Connect streaming: a single end-of-stream envelope carrying the error.
    const payload = new TextEncoder().encode(`{"error":${json}}`);
    const body = new Uint8Array(5 + payload.length);
    body[0] = 0b10;
    new DataView(body.buffer).setUint32(1, payload.length);
    body.set(payload, 5);
    h.set("content-type", contentType);
    return new Response(body, { status: 200, headers: h });
  }
  h.set("content-type", "application/json");
  return new Response(json, { status: httpStatus[code] ?? 500, headers: h });
}

/** A client error (core/failure.ts clientError) in the caller's protocol, with its headers. */
export const rpcErrorOf = (contentType: string, e: ConnectError, requestId: string): Response =>
  rpcError(contentType, codeToString(e.code) as RpcCode, e.rawMessage, failureHeaders(e, requestId));

/**
 * A request that could not be forwarded to a worker (fetch only fails when the worker cannot be reached):
 * logged, and answered "the <service> service is unavailable, retry in a moment (request id …)".
 */
export function upstreamUnavailable(err: unknown, service: string, requestId: string): ConnectError {
  const cause = err instanceof Error ? err.cause : undefined;
  console.error(
    JSON.stringify({
      msg: "upstream failed",
      service,
      rid: requestId,
      err: String(err),
      cause: String(cause),
    }),
  );
  const unreachable =
    err instanceof UnreachableError ? err : new UnreachableError(`the ${service} service`, { cause: err });
  return clientError(unreachable, requestId);
}
