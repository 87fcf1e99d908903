// Errors the gateway answers itself, in the wire format of the caller's protocol
// (Connect unary, Connect streaming, gRPC-Web or gRPC), and its failures to reach a worker.
import { type Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJson,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { clientError, failureHeaders, UnreachableError } from "../../core/failure.ts";
import { log } from "../log.ts";

/**
 * `error` in the wire format of the caller's protocol, written by connect's own protocol helpers: gRPC and
 * gRPC-Web a "trailers-only" answer (grpc-status, grpc-message and any details in grpc-status-details-bin
 * as headers), Connect streaming one end-of-stream envelope, Connect unary JSON with the code's HTTP status.
 */
export function rpcErrorResponse(
  contentType: string,
  error: ConnectError,
  headers: HeadersInit = {},
): Response {
  let h: Headers;
  let body: BodyInit | null = null;
  let status = 200;
  if (contentType.startsWith("application/grpc")) {
    h = setTrailerStatus(new Headers(), error);
    h.set("content-type", contentType.split(";")[0] ?? "application/grpc");
  } else if (contentType.startsWith("application/connect+")) {
    const end = endStreamToJson(new Headers(), error, undefined);
    body = encodeEnvelope(endStreamFlag, new TextEncoder().encode(JSON.stringify(end)));
    h = new Headers({ "content-type": contentType });
  } else {
    body = JSON.stringify(errorToJson(error, undefined));
    status = codeToHttpStatus(error.code);
    h = new Headers({ "content-type": "application/json" });
  }
  // The caller's headers win over metadata the error carries (the same request id, say).
  for (const [key, value] of new Headers(headers)) h.set(key, value);
  return new Response(body, { status, headers: h });
}

/** An error the gateway raises itself (no service was called), in the caller's protocol. */
export const rpcError = (contentType: string, code: Code, message: string): Response =>
  rpcErrorResponse(contentType, new ConnectError(message, code));

/** A client error (core/failure.ts clientError) in the caller's protocol, with its headers. */
export const rpcErrorOf = (contentType: string, e: ConnectError, requestId: string): Response =>
  rpcErrorResponse(contentType, e, failureHeaders(e, requestId));

/**
 * A request that could not be forwarded to a worker (fetch only fails when the worker cannot be reached):
 * logged, and answered "the <service> service is unavailable, retry in a moment (request id …)".
 */
export function upstreamUnavailable(err: unknown, service: string, requestId: string): ConnectError {
  const cause = err instanceof Error ? err.cause : undefined;
  log("error", "upstream failed", { service, rid: requestId, err: String(err), cause: String(cause) });
  const unreachable =
    err instanceof UnreachableError ? err : new UnreachableError(`the ${service} service`, { cause: err });
  return clientError(unreachable, requestId);
}
