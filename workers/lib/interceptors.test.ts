import { describe, expect, test } from "bun:test";
import { openSync, writeSync } from "node:fs";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { createAccessTokenVerifier } from "../../core/access-token.ts";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { AccountService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { UserService } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import { httpTransport } from "./clients.ts";
import { requestIdKey } from "./context.ts";
import {
  authInterceptor,
  errorInterceptor,
  INTERNAL_SECRET_HEADER,
  requestIdPropagation,
} from "./interceptors.ts";
import type { Logger } from "./log.ts";
import { createMetaClient } from "./meta-client.ts";
import { closedPort } from "./testing.ts";

function capture(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const push = (msg: string, f?: Record<string, unknown>) => lines.push({ msg, ...f });
  return { lines, debug: push, info: push, warn: push, error: push };
}

describe("errorInterceptor", () => {
  test("unexpected errors become Internal with only a request id; the details go to the log", async () => {
    const log = capture();
    const transport = createRouterTransport(
      (r) =>
        r.service(AccountService, {
          signup() {
            throw new Error("connect ECONNREFUSED 10.0.0.5:3306 password=hunter2");
          },
        }),
      { router: { interceptors: [errorInterceptor(log)] } },
    );
    const err = await createClient(AccountService, transport)
      .signup({}, { headers: { "x-request-id": "req-123" } })
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect((err as ConnectError).rawMessage).toBe("internal error (request id req-123)");
    expect(JSON.stringify(log.lines)).toContain("hunter2");
    expect(log.lines[0]?.rid).toBe("req-123");
  });

  test("deliberate errors keep their code and message", async () => {
    const transport = createRouterTransport(
      (r) =>
        r.service(AccountService, {
          signup() {
            throw new ConnectError("username is taken", Code.AlreadyExists);
          },
        }),
      { router: { interceptors: [errorInterceptor(capture())] } },
    );
    const err = await createClient(AccountService, transport)
      .signup({})
      .catch((e) => ConnectError.from(e));
    expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([
      Code.AlreadyExists,
      "username is taken",
    ]);
  });
});

describe("errorInterceptor: failures a client can act on", () => {
  /** AccountService whose Signup fails with `fail()`, called with request id `rid`. */
  async function signupFailing(fail: () => unknown, rid: string) {
    const log = capture();
    const transport = createRouterTransport(
      (r) =>
        r.service(AccountService, {
          async signup() {
            throw await fail();
          },
        }),
      { router: { interceptors: [errorInterceptor(log)] } },
    );
    const err = await createClient(AccountService, transport)
      .signup({}, { headers: { "x-request-id": rid } })
      .catch((e) => ConnectError.from(e));
    return { err: err as ConnectError, log };
  }

  test("full storage (ENOSPC) is ResourceExhausted, says so with the request id, and carries the reason", async () => {
    const { err, log } = await signupFailing(() => {
      try {
        writeSync(openSync("/dev/full", "w"), new Uint8Array(16));
      } catch (e) {
        return e;
      }
    }, "req-9");
    expect([err.code, err.rawMessage]).toEqual([
      Code.ResourceExhausted,
      "the server's storage is full (request id req-9)",
    ]);
    expect(reasonOf(err)).toBe(Reason.STORAGE_FULL);
    expect(JSON.stringify(log.lines)).toContain("ENOSPC");
  });

  test("a service that cannot be reached is Unavailable naming it, never its address", async () => {
    const port = closedPort();
    const meta = createMetaClient(httpTransport(`http://127.0.0.1:${port}`, "s".repeat(32)));
    const { err, log } = await signupFailing(() => meta.touchUser({ id: "x" }), "req-5");
    expect([err.code, err.rawMessage]).toEqual([
      Code.Unavailable,
      "the meta service is unavailable, retry in a moment (request id req-5)",
    ]);
    expect(JSON.stringify(log.lines)).toContain(`127.0.0.1:${port}`);
  });

  test("a service whose connection is cut (a process killed under a kept-alive connection) likewise", async () => {
    const cutting = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data: (socket) => socket.terminate() },
    });
    try {
      const meta = createMetaClient(httpTransport(`http://127.0.0.1:${cutting.port}`, "s".repeat(32)));
      const { err } = await signupFailing(() => meta.touchUser({ id: "x" }), "req-6");
      expect([err.code, err.rawMessage]).toEqual([
        Code.Unavailable,
        "the meta service is unavailable, retry in a moment (request id req-6)",
      ]);
    } finally {
      cutting.stop(true);
    }
  });
});

describe("authInterceptor", () => {
  const verifier = createAccessTokenVerifier({ keys: async () => new Uint8Array(32), issuer: "x" });
  const transport = createRouterTransport((r) => r.service(UserService, { touchUser: () => ({}) }), {
    router: { interceptors: [authInterceptor({ verifier, internalSecret: "s".repeat(32) })] },
  });
  const meta = createMetaClient(transport);

  test("internal services need the exact secret", async () => {
    for (const secret of [undefined, "", "s".repeat(31), "t".repeat(32), "s".repeat(33)]) {
      const headers: Record<string, string> =
        secret === undefined ? {} : { [INTERNAL_SECRET_HEADER]: secret };
      const err = await meta.touchUser({ id: "x" }, { headers }).catch((e) => ConnectError.from(e));
      expect([secret, (err as ConnectError).code]).toEqual([secret, Code.PermissionDenied]);
    }
    expect(
      await meta.touchUser({ id: "x" }, { headers: { [INTERNAL_SECRET_HEADER]: "s".repeat(32) } }),
    ).toBeDefined();
  });
});

describe("request id propagation", () => {
  test("a call made while serving a call carries the served call's request id; a fresh call gets its own", async () => {
    const seen: (string | undefined)[] = [];
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    // Service B records the request id it was called with.
    const b = createMetaClient(
      createRouterTransport(
        (r) =>
          r.service(UserService, {
            getUser(_req, ctx) {
              seen.push(ctx.values.get(requestIdKey));
              return {};
            },
          }),
        {
          router: { interceptors: [errorInterceptor(quiet)] },
          transport: { interceptors: [requestIdPropagation()] },
        },
      ),
    );
    // Service A calls B while serving.
    const a = createClient(
      AccountService,
      createRouterTransport(
        (r) =>
          r.service(AccountService, {
            async getUserInfo() {
              await Bun.sleep(1); // across an await, too
              await b.getUser({});
              return {};
            },
          }),
        { router: { interceptors: [errorInterceptor(quiet)] } },
      ),
    );
    await a.getUserInfo({}, { headers: { "x-request-id": "req-from-gateway" } });
    await b.getUser({});
    expect(seen[0]).toBe("req-from-gateway");
    expect(seen[1]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
