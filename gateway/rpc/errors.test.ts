// The gateway's own error answers in each protocol, reasons included, read back by connect's parsers.
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { endStreamFromJson, errorFromJson } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { Reason, reasonError, reasonOf } from "../../core/reasons.ts";
import { rpcErrorResponse } from "./errors.ts";

const full = () => reasonError("the server's storage is full", Code.ResourceExhausted, Reason.STORAGE_FULL);

describe("rpcErrorResponse", () => {
  test("gRPC and gRPC-Web: trailers-only, the reason in grpc-status-details-bin", () => {
    for (const type of ["application/grpc", "application/grpc-web+proto"]) {
      const res = rpcErrorResponse(`${type}; charset=utf-8`, full(), { "x-request-id": "r1" });
      expect([res.status, res.headers.get("content-type"), res.headers.get("x-request-id")]).toEqual([
        200,
        type,
        "r1",
      ]);
      const e = findTrailerError(res.headers);
      expect([e?.code, e?.rawMessage, reasonOf(e)]).toEqual([
        Code.ResourceExhausted,
        "the server's storage is full",
        Reason.STORAGE_FULL,
      ]);
    }
  });

  test("Connect streaming: one end-of-stream envelope", async () => {
    const res = rpcErrorResponse("application/connect+json", full());
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([res.status, bytes[0]]).toEqual([200, 0b10]);
    const end = endStreamFromJson(bytes.subarray(5));
    expect([end.error?.code, reasonOf(end.error)]).toEqual([Code.ResourceExhausted, Reason.STORAGE_FULL]);
  });

  test("Connect unary: JSON with the code's HTTP status and the reason in details", async () => {
    const res = rpcErrorResponse("application/json", full());
    expect(res.status).toBe(429);
    const e = errorFromJson(await res.json(), undefined, full());
    expect([e.code, reasonOf(e)]).toEqual([Code.ResourceExhausted, Reason.STORAGE_FULL]);
  });
});
