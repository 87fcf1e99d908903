// The direct unary path must answer exactly like Connect's own handler. Each request is sent twice: as is
// (fast path) and with a Connect-Timeout-Ms header, which sends it through the full handler.
import { describe, expect, test } from "bun:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createConnectRouter, createContextValues } from "@connectrpc/connect";
import {
  AccountService,
  GetUserInfoResponseSchema,
} from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { FastUnary } from "./fast-unary.ts";
import { errorInterceptor } from "./interceptors.ts";
import type { Logger } from "./log.ts";
import { RpcHost } from "./server.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const host = new RpcHost(
  [
    {
      services: [AccountService],
      routes(router) {
        router.service(AccountService, {
          signup(req, ctx) {
            if (req.username === "taken") throw new ConnectError("username is taken", Code.AlreadyExists);
            if (req.username === "boom") throw new Error("secret internals");
            ctx.responseHeader.set("x-extra", "1");
            ctx.responseTrailer.set("x-trailer", "t");
            return { user: { id: "u1", username: req.username, createdAt: { seconds: 1n, nanos: 5 } } };
          },
        });
      },
    },
  ],
  { interceptors: [errorInterceptor(quiet)], maxRpcBytes: 1024, trustedProxies: [], log: quiet },
);

async function both(body: BodyInit, contentType: string) {
  const send = async (extra: Record<string, string>) => {
    const res = await host.fetch(
      new Request("http://in-process/filestore.account.v1.AccountService/Signup", {
        method: "POST",
        headers: { "content-type": contentType, "x-request-id": "rid-1", ...extra },
        body,
      }),
    );
    const headers = Object.fromEntries(
      [...res.headers].filter(([k]) => !["content-length", "date", "connect-timeout-ms"].includes(k)),
    );
    return { status: res.status, headers, body: new Uint8Array(await res.arrayBuffer()) };
  };
  return { fast: await send({}), full: await send({ "connect-timeout-ms": "10000" }) };
}

const json = (o: unknown) => JSON.stringify(o);

describe("fast unary path = Connect's handler", () => {
  test.each([
    { name: "success with header and trailer", body: json({ username: "alice" }), type: "application/json" },
    { name: "deliberate error", body: json({ username: "taken" }), type: "application/json" },
    { name: "unexpected error", body: json({ username: "boom" }), type: "application/json" },
    { name: "malformed JSON", body: '{"username":', type: "application/json" },
    { name: "wrong field type", body: '{"username":5}', type: "application/json" },
    { name: "empty body", body: "", type: "application/json" },
    {
      name: "binary success",
      body: new Uint8Array([0x0a, 0x03, 0x62, 0x6f, 0x62]),
      type: "application/proto",
    },
  ])("$name", async ({ body, type }) => {
    const { fast, full } = await both(body, type);
    expect(fast.status).toBe(full.status);
    expect(fast.headers).toEqual(full.headers);
    if (fast.status === 200) expect(fast.body).toEqual(full.body);
    else {
      // Error messages may be worded differently by the two decoders; codes must match.
      const code = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)).code;
      expect(code(fast.body)).toBe(code(full.body));
    }
  });

  test("undecodable binary: invalid_argument here, where connect-es's handler says internal", async () => {
    const { fast, full } = await both(new Uint8Array([0x0a, 0xff, 0xff]), "application/proto");
    const code = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)).code;
    expect([fast.status, code(fast.body)]).toEqual([400, "invalid_argument"]);
    expect([full.status, code(full.body)]).toEqual([500, "internal"]);
  });

  test("an undeclared oversized body is refused with resource_exhausted", async () => {
    const fast = new FastUnary([], 1024);
    fast.capture(createConnectRouter()).service(AccountService, { signup: () => ({}) });
    const stream = new Blob(["x".repeat(5000)]).stream();
    const res = await fast.handle(
      "/filestore.account.v1.AccountService/Signup",
      new Request("http://x/filestore.account.v1.AccountService/Signup", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
      }),
      createContextValues(),
    );
    expect(res?.status).toBe(429);
    expect((await (res as Response).json()).code).toBe("resource_exhausted");
  });

  test("too large a body is refused the same way", async () => {
    const { fast, full } = await both(json({ username: "x".repeat(2000) }), "application/json");
    expect([fast.status, full.status]).toEqual([429, 429]);
  });
});

describe("which calls take the fast path", () => {
  const fast = new FastUnary([], 1024);
  const router = createConnectRouter();
  fast.capture(router).service(AccountService, { signup: () => ({}) });
  const req = (headers: Record<string, string>, body = "{}") =>
    new Request("http://x/filestore.account.v1.AccountService/Signup", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
  const values = createContextValues();
  const path = "/filestore.account.v1.AccountService/Signup";

  test("plain unary JSON and proto calls do", async () => {
    expect(await fast.handle(path, req({}), values)).toBeInstanceOf(Response);
    expect(await fast.handle(path, req({ "content-type": "application/proto" }, ""), values)).toBeInstanceOf(
      Response,
    );
  });

  test("timeouts, compression, other content types, unknown paths and large bodies do not", async () => {
    const variants: Record<string, string>[] = [
      { "connect-timeout-ms": "100" },
      { "content-encoding": "gzip" },
      { "content-type": "application/json; charset=utf-8" },
      { "content-type": "application/grpc-web+proto" },
    ];
    for (const headers of variants) {
      expect([headers, await fast.handle(path, req(headers), values)]).toEqual([headers, undefined]);
    }
    expect(await fast.handle("/nope.Service/Method", req({}), values)).toBeUndefined();
    const declared = req({ "content-length": "2000" }, "x".repeat(2000));
    expect(await fast.handle(path, declared, values)).toBeUndefined();
  });
});

test("a cached response message is encoded once and every answer carries it whole", async () => {
  const fast = new FastUnary([], 1024);
  const cached = create(GetUserInfoResponseSchema, { user: { id: "u1", username: "alice" } });
  fast.capture(createConnectRouter()).service(AccountService, { getUserInfo: () => cached });
  const call = async (type: string) => {
    const res = await fast.handle(
      "/filestore.account.v1.AccountService/GetUserInfo",
      new Request("http://x/filestore.account.v1.AccountService/GetUserInfo", {
        method: "POST",
        headers: { "content-type": type },
        body: type === "application/json" ? "{}" : "",
      }),
      createContextValues(),
    );
    return new Uint8Array(await (res as Response).arrayBuffer());
  };
  const first = await call("application/json");
  expect(JSON.parse(new TextDecoder().decode(first))).toEqual({ user: { id: "u1", username: "alice" } });
  for (let i = 0; i < 3; i++) expect(await call("application/json")).toEqual(first);
  const binary = await call("application/proto");
  expect(fromBinary(GetUserInfoResponseSchema, binary).user?.username).toBe("alice");
  expect(await call("application/proto")).toEqual(binary);
});
