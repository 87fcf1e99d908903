// Connection failures and server failures as the user reads them, and the retries before that.
import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe as describeError } from "./errors.ts";
import { describeFsError, LocalError } from "./local-errors.ts";
import { connectionProblem, retryInterceptor, serverFailure, Unreachable } from "./network.ts";

const systemError = (code: string, message = code) => Object.assign(new Error(message), { code });
const FAST = { tries: 3, baseMs: 1, maxMs: 2, jitter: "equal" as const };

describe("connection failures", () => {
  test("named by their system codes, also when wrapped (Connect, fetch)", () => {
    expect(connectionProblem(systemError("ECONNREFUSED"))).toBe("connection refused");
    const wrapped = new ConnectError(
      "connect ECONNREFUSED 127.0.0.1:1",
      Code.Unavailable,
      undefined,
      undefined,
      systemError("ECONNREFUSED"),
    );
    expect(connectionProblem(wrapped)).toBe("connection refused");
    expect(connectionProblem(systemError("ENOTFOUND"))).toBe("host not found (DNS)");
    expect(connectionProblem(systemError("ECONNRESET"))).toBe("connection reset");
    expect(connectionProblem(new Error("no code"))).toBeUndefined();
    expect(describeError(wrapped, "http://localhost:1")).toBe(
      "cannot reach http://localhost:1: connection refused",
    );
  });

  test("unary calls are retried, then end in one Unreachable line; other errors are not retried", async () => {
    let calls = 0;
    const refused = retryInterceptor(
      "http://h:1",
      FAST,
    )(async () => {
      calls++;
      throw new ConnectError("refused", Code.Unavailable, undefined, undefined, systemError("ECONNREFUSED"));
    });
    const req = { stream: false } as Parameters<typeof refused>[0];
    const err = await refused(req).catch((e) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(Unreachable);
    expect(err.message).toBe("cannot reach http://h:1: connection refused");

    calls = 0;
    const flaky = retryInterceptor(
      "http://h:1",
      FAST,
    )(async () => {
      if (++calls < 3) throw new ConnectError("busy", Code.Unavailable);
      return { ok: true } as never;
    });
    expect(await flaky(req)).toEqual({ ok: true } as never);

    calls = 0;
    const missing = retryInterceptor(
      "http://h:1",
      FAST,
    )(async () => {
      calls++;
      throw new ConnectError("no such file", Code.NotFound);
    });
    expect(await missing(req).catch((e) => e.code)).toBe(Code.NotFound);
    expect(calls).toBe(1);
  });
});

describe("server failures", () => {
  test("the server's message with its request id, once", () => {
    const unavailable = new ConnectError(
      "the meta service is unavailable, retry in a moment",
      Code.Unavailable,
      { "x-request-id": "r-1" },
    );
    expect(serverFailure(unavailable, "http://s")).toBe(
      "http://s: the meta service is unavailable, retry in a moment (request id r-1)",
    );
    const internal = new ConnectError("internal error (request id r-2)", Code.Internal, {
      "x-request-id": "r-2",
    });
    expect(describeError(internal, "http://s")).toBe(
      "server error from http://s: internal error (request id r-2)",
    );
    expect(serverFailure(new ConnectError("no", Code.NotFound), "http://s")).toBeUndefined();
  });
});

describe("local errors", () => {
  test("one line naming the path and the problem, never the raw code", () => {
    const raw = Object.assign(systemError("ENOENT", "ENOENT: no such file or directory, open 'x/y'"), {
      path: "x/y",
      syscall: "open",
    });
    expect(describeFsError(raw)).toBe("cannot access x/y: no such file or folder");
    expect(describeError(new LocalError("write", "./x", "permission denied"))).toBe(
      "cannot write ./x: permission denied",
    );
    expect(describeError(raw)).not.toContain("ENOENT");
  });
});
