// One worker, every protocol: Connect JSON over HTTP/1.1 (curl), gRPC over h2c (buf curl and a Connect-Node
// gRPC client), gRPC-Web (buf curl), Connect binary over HTTP/2; health and reflection (v1, v1alpha).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { ACCOUNT, BIN, run, type Stack, signedInUser } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;
beforeAll(async () => {
  stack = await sharedStack();
  user = await signedInUser(stack.gatewayUrl);
}, 60_000);
afterAll(() => stack?.stop());

const buf = (...args: string[]) => run([`${BIN}/buf`, "curl", ...args]);
const authHeader = () => `authorization: Bearer ${user.accessToken}`;

describe(`protocols on one worker port (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("Connect JSON over HTTP/1.1 with curl", async () => {
    const r = await run([
      "curl",
      "-sS",
      "--http1.1",
      "-XPOST",
      "-H",
      "content-type: application/json",
      "-H",
      authHeader(),
      "-d",
      "{}",
      `${stack.accountUrl}/${ACCOUNT}/GetUserInfo`,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).user.username).toBe(user.username);
  });

  test("gRPC over h2c with buf curl, no local schema (reflection)", async () => {
    const r = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-H",
      authHeader(),
      `${stack.accountUrl}/${ACCOUNT}/GetUserInfo`,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).user.username).toBe(user.username);
  });

  test("gRPC-Web over HTTP/1.1 with buf curl", async () => {
    const r = await buf(
      "--protocol",
      "grpcweb",
      "-H",
      authHeader(),
      `${stack.accountUrl}/${ACCOUNT}/GetUserInfo`,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).user.username).toBe(user.username);
  });

  test("reflection v1alpha and method listing", async () => {
    const list = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-methods",
      stack.accountUrl,
    );
    expect(list.stdout).toContain(`${ACCOUNT}/GetUserInfo`);
    expect(list.stdout).toContain(`${ACCOUNT}/Signin`);
    const alpha = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--reflect-protocol",
      "grpc-v1alpha",
      "-H",
      authHeader(),
      `${stack.accountUrl}/${ACCOUNT}/GetUserInfo`,
    );
    expect(JSON.parse(alpha.stdout).user.username).toBe(user.username);
    // Exactly as a user types it: default protocol (Connect), no flags.
    const plain = await buf("--list-methods", stack.accountUrl);
    expect(plain.stdout).toContain(`${ACCOUNT}/GetUserInfo`);
    const services = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-services",
      stack.accountUrl,
    );
    expect(services.stdout).toContain("grpc.health.v1.Health");
  });

  test("health check over gRPC and Connect", async () => {
    const r = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      "{}",
      `${stack.accountUrl}/grpc.health.v1.Health/Check`,
    );
    expect(JSON.parse(r.stdout).status).toBe("SERVING");
    const svc = await buf(
      "--protocol",
      "connect",
      "-d",
      JSON.stringify({ service: ACCOUNT }),
      `${stack.accountUrl}/grpc.health.v1.Health/Check`,
    );
    expect(JSON.parse(svc.stdout).status).toBe("SERVING");
    const unknown = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"service":"nope.Service"}',
      `${stack.accountUrl}/grpc.health.v1.Health/Check`,
    );
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("not_found");
  });

  test("Connect-Node clients: gRPC (HTTP/2), Connect binary (HTTP/2), gRPC-Web (HTTP/1.1)", async () => {
    const transports = {
      grpc: createGrpcTransport({ baseUrl: stack.accountUrl }),
      connectH2: createConnectTransport({
        baseUrl: stack.accountUrl,
        httpVersion: "2",
        useBinaryFormat: true,
      }),
      grpcWeb: createGrpcWebTransport({ baseUrl: stack.accountUrl, httpVersion: "1.1" }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      const client = createClient(AccountService, transport);
      const res = await client.getUserInfo({}, { headers: { authorization: `Bearer ${user.accessToken}` } });
      expect([name, res.user?.username]).toEqual([name, user.username]);
      const err = await client.getUserInfo({}).catch((e) => ConnectError.from(e));
      expect([name, (err as ConnectError).code]).toEqual([name, Code.Unauthenticated]);
    }
  });

  test("gRPC errors carry status and a useful message", async () => {
    const r = await buf(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"username":"x","password":"y"}',
      `${stack.accountUrl}/${ACCOUNT}/Signup`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("invalid_argument");
    expect(r.stderr).toContain("username must be 3-64 characters");
  });

  test("the gateway passes Connect and gRPC-Web through", async () => {
    const web = createClient(
      AccountService,
      createGrpcWebTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1" }),
    );
    const res = await web.getUserInfo({}, { headers: { authorization: `Bearer ${user.accessToken}` } });
    expect(res.user?.username).toBe(user.username);
    const binary = createClient(
      AccountService,
      createConnectTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1", useBinaryFormat: true }),
    );
    expect(
      (await binary.getUserInfo({}, { headers: { authorization: `Bearer ${user.accessToken}` } })).user?.id,
    ).toBe(user.user.id);
    const viaBuf = await buf(
      "--protocol",
      "grpcweb",
      "-H",
      authHeader(),
      `${stack.gatewayUrl}/${ACCOUNT}/GetUserInfo`,
      "--schema",
      "proto",
    );
    expect(JSON.parse(viaBuf.stdout).user.username).toBe(user.username);
  });
});
