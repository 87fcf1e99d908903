// The legacy error table: reasons before codes, the groups' defaults, and workers' JSON errors read back
// with their reasons.
import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { Reason, reasonError } from "../../core/reasons.ts";
import { LEGACY_ERRORS, legacyAnswerOf, workerError } from "./errors.ts";

const err = (code: Code) => new ConnectError("x", code);

describe("LEGACY_ERRORS", () => {
  test("a part that does not verify is -2, a bad request -1, the server's failure -6", () => {
    const mismatch = reasonError("part 1 must be 5 bytes", Code.InvalidArgument, Reason.PART_MISMATCH);
    const tooLong = reasonError("larger than the part", Code.ResourceExhausted, Reason.PART_MISMATCH);
    const full = reasonError("the server's storage is full", Code.ResourceExhausted, Reason.STORAGE_FULL);
    expect(legacyAnswerOf("mpuploadPart", mismatch)).toBe(-2);
    expect(legacyAnswerOf("mpuploadPart", tooLong)).toBe(-2);
    expect(legacyAnswerOf("mpuploadPart", err(Code.InvalidArgument))).toBe(-1);
    expect(legacyAnswerOf("mpuploadPart", err(Code.NotFound))).toBe(-1);
    expect(legacyAnswerOf("mpuploadPart", full)).toBe("failure");
    expect(legacyAnswerOf("mpuploadPart", err(Code.Unavailable))).toBe("failure");
    expect(legacyAnswerOf("mpuploadPart", err(Code.Internal))).toBe("failure");
    expect(legacyAnswerOf("mpuploadPart", err(Code.Unauthenticated))).toBe("token-invalid");
    expect(LEGACY_ERRORS.mpuploadPart.failure).toBe(-6);
  });

  test("init: full storage and too many uploads are -4 by their reasons", () => {
    for (const reason of [Reason.STORAGE_FULL, Reason.TOO_MANY_UPLOADS])
      expect(legacyAnswerOf("mpuploadInit", reasonError("no", Code.ResourceExhausted, reason))).toBe(-4);
    expect(legacyAnswerOf("mpuploadInit", err(Code.InvalidArgument))).toBe(-1);
    expect(legacyAnswerOf("mpuploadInit", err(Code.Internal))).toBe("failure");
  });

  test("signin: an account with two-factor on gets 10004 with a message saying why, not the bare one", () => {
    const twoFactor = reasonError("enter a code", Code.Unauthenticated, Reason.SECOND_FACTOR_REQUIRED);
    const answer = legacyAnswerOf("signin", twoFactor) as { code: number; msg: string };
    expect(answer.code).toBe(10004);
    expect(answer.msg).toContain("two-factor");
    expect(legacyAnswerOf("signin", err(Code.Unauthenticated))).toBe(10004);
  });

  test("signup closed or without a valid invite: 10003 with the worker's message", () => {
    for (const reason of [Reason.SIGNUP_CLOSED, Reason.INVITE_REQUIRED])
      expect(legacyAnswerOf("signup", reasonError("no", Code.PermissionDenied, reason))).toBe(10003);
    expect(legacyAnswerOf("signup", err(Code.PermissionDenied))).toBe("failure");
  });

  test("signin: a disabled account is 10004; a reset password is 10004 saying where to choose a new one", () => {
    const disabled = reasonError("disabled", Code.PermissionDenied, Reason.ACCOUNT_DISABLED);
    expect(legacyAnswerOf("signin", disabled)).toBe(10004);
    const reset = reasonError("choose", Code.FailedPrecondition, Reason.PASSWORD_CHANGE_REQUIRED);
    const answer = legacyAnswerOf("signin", reset) as { code: number; msg: string };
    expect(answer.code).toBe(10004);
    expect(answer.msg).toContain("reset this account's password");
  });

  test("routes without a rule for an error answer their failure", () => {
    expect(legacyAnswerOf("signup", err(Code.Unavailable))).toBe("failure");
    expect(legacyAnswerOf("update", err(Code.AlreadyExists))).toBe(10006);
    expect(LEGACY_ERRORS.query.failure).toBe("throw");
    expect(legacyAnswerOf("download", err(Code.Internal))).toBe("pass");
  });
});

describe("workerError", () => {
  const answer = (body: BodyInit | null, status: number, type = "application/json") =>
    new Response(body, { status, headers: { "content-type": type } });

  test("a worker's Connect-style JSON error keeps its code, message and reason", async () => {
    const sent = reasonError("part 2's SHA-1 does not match", Code.InvalidArgument, Reason.PART_MISMATCH);
    const e = await workerError(answer(JSON.stringify(errorToJson(sent, undefined)), 400), "failed");
    expect([e.code, e.rawMessage]).toEqual([Code.InvalidArgument, "part 2's SHA-1 does not match"]);
    expect(legacyAnswerOf("mpuploadPart", e)).toBe(-2);
  });

  test("a body that is not one is read by its status, with the fallback message", async () => {
    const e = await workerError(answer("oops", 502, "text/plain"), "upload failed");
    expect([e.code, e.rawMessage]).toEqual([Code.Internal, "upload failed"]);
    expect((await workerError(answer(null, 401), "x")).code).toBe(Code.Unauthenticated);
    expect((await workerError(answer("{}", 413), "x")).code).toBe(Code.InvalidArgument);
  });
});
