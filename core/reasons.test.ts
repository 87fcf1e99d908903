// Reasons cross every wire a caller may read them from: Connect JSON (RPC errors and the data planes'
// answers) and gRPC trailers (grpc-status-details-bin), and come back the same through reasonOf.
import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJson, errorToJson } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { ErrorInfoSchema } from "../proto/gen/google/rpc/error_details_pb.ts";
import { ERROR_DOMAIN, Reason, reasonError, reasonOf, withReason } from "./reasons.ts";

const full = () => reasonError("the server's storage is full", Code.ResourceExhausted, Reason.STORAGE_FULL);

describe("reasons", () => {
  test("an error made with a reason has it; others have none", () => {
    expect(reasonOf(full())).toBe(Reason.STORAGE_FULL);
    expect(reasonOf(new ConnectError("too large", Code.ResourceExhausted))).toBeUndefined();
    expect(reasonOf(new Error("x"))).toBeUndefined();
    expect(reasonOf(undefined)).toBeUndefined();
  });

  test("the detail is a standard google.rpc.ErrorInfo of domain filestore", () => {
    const e = withReason(new ConnectError("busy", Code.ResourceExhausted), Reason.TOO_MANY_UPLOADS, {
      limit: "3",
    });
    expect(
      e.findDetails(ErrorInfoSchema).map(({ reason, domain, metadata }) => [reason, domain, metadata]),
    ).toEqual([["TOO_MANY_UPLOADS", ERROR_DOMAIN, { limit: "3" }]]);
  });

  test("Connect JSON carries it in details, and reading it back finds it", () => {
    const json = errorToJson(full(), undefined);
    expect(json).toMatchObject({ code: "resource_exhausted", details: [{ type: "google.rpc.ErrorInfo" }] });
    const back = errorFromJson(json, undefined, new ConnectError("fallback", Code.Internal));
    expect([back.code, reasonOf(back)]).toEqual([Code.ResourceExhausted, Reason.STORAGE_FULL]);
  });

  test("gRPC carries it in grpc-status-details-bin", () => {
    const trailer = setTrailerStatus(new Headers(), full());
    expect(trailer.get("grpc-status")).toBe(String(Code.ResourceExhausted));
    expect(trailer.get("grpc-status-details-bin")).toBeTruthy();
    expect(reasonOf(findTrailerError(trailer))).toBe(Reason.STORAGE_FULL);
  });

  test("a reason of another domain, or one this build does not know, is none", () => {
    const other = new ConnectError("x", Code.ResourceExhausted);
    other.details.push({ desc: ErrorInfoSchema, value: { reason: "STORAGE_FULL", domain: "example.com" } });
    other.details.push({ desc: ErrorInfoSchema, value: { reason: "SOMETHING_NEW", domain: ERROR_DOMAIN } });
    expect(reasonOf(other)).toBeUndefined();
  });
});
