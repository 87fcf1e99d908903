// The RPC metrics interceptor on a real host and port: one histogram series per protocol and code, the
// code a client gets (after the error interceptor's mapping), the in-flight gauge back at 0, and the
// worker's /metrics valid for promtool.
import { afterAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import type { AccessTokenVerifier } from "../../../core/access-token.ts";
import { InvalidTokenError } from "../../../core/access-token.ts";
import { AccountService } from "../../../proto/gen/filestore/account/v1/account_pb.ts";
import type { Logger } from "../log.ts";
import { listen } from "../server.ts";
import { codeOf } from "../testing.ts";
import { hostFor } from "../worker.ts";
import { createMetrics } from "./registry.ts";
import { rpcSystemOf } from "./rpc.ts";
import { promtoolCheckMetrics } from "./testing.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const verifier: AccessTokenVerifier = {
  async verify() {
    throw new InvalidTokenError("no tokens here");
  },
};

const metrics = createMetrics("account");
const host = hostFor({
  config: {
    maxRpcBytes: 1 << 20,
    trustedProxies: [],
    internalSecret: "x".repeat(40),
    metricsToken: undefined,
    accessLog: false,
  },
  modules: [
    {
      services: [AccountService],
      routes(router) {
        router.service(AccountService, {
          async signup(req) {
            if (req.username === "taken") throw new ConnectError("username is taken", Code.AlreadyExists);
            if (req.username === "boom") throw new Error("secret internals");
            return { user: { id: "u1", username: req.username } };
          },
        });
      },
    },
  ],
  verifier,
  log: quiet,
  metrics,
});
const listener = await listen(host.node, "127.0.0.1", 0);
const baseUrl = `http://127.0.0.1:${listener.port}`;
afterAll(() => listener.close(0));

const clients = {
  connect_rpc: createClient(AccountService, createConnectTransport({ baseUrl, httpVersion: "1.1" })),
  grpc: createClient(AccountService, createGrpcTransport({ baseUrl })),
  grpc_web: createClient(AccountService, createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })),
};

function count(text: string, system: string, code: string): number | undefined {
  const series =
    `filestore_rpc_server_duration_seconds_count{service="account",rpc_system="${system}",` +
    `rpc_service="filestore.account.v1.AccountService",rpc_method="Signup",code="${code}"}`;
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("RPC metrics interceptor", () => {
  test("the protocol comes from the content type", () => {
    expect(rpcSystemOf("application/grpc")).toBe("grpc");
    expect(rpcSystemOf("application/grpc+proto")).toBe("grpc");
    expect(rpcSystemOf("application/grpc-web+proto")).toBe("grpc_web");
    expect(rpcSystemOf("application/grpc-web-text")).toBe("grpc_web");
    expect(rpcSystemOf("application/json")).toBe("connect_rpc");
    expect(rpcSystemOf("application/connect+proto")).toBe("connect_rpc");
    expect(rpcSystemOf(null)).toBe("connect_rpc");
  });

  test("every protocol and code gets its series; unexpected errors count as the internal clients see", async () => {
    for (const client of Object.values(clients)) {
      expect(await codeOf(client.signup({ username: "alice", password: "x" }))).toBe("ok");
      expect(await codeOf(client.signup({ username: "bob", password: "x" }))).toBe("ok");
      expect(await codeOf(client.signup({ username: "taken", password: "x" }))).toBe(Code.AlreadyExists);
      expect(await codeOf(client.signup({ username: "boom", password: "x" }))).toBe(Code.Internal);
    }
    // The in-process fast path (all-in-one's gateway) is Connect too.
    const fast = await host.fetch(
      new Request(`${baseUrl}/filestore.account.v1.AccountService/Signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "carol" }),
      }),
    );
    expect(fast.status).toBe(200);
    const text = await metrics.text();
    for (const system of ["grpc", "grpc_web"]) {
      expect([system, count(text, system, "ok")]).toEqual([system, 2]);
      expect([system, count(text, system, "already_exists")]).toEqual([system, 1]);
      expect([system, count(text, system, "internal")]).toEqual([system, 1]);
      expect([system, count(text, system, "unknown")]).toEqual([system, undefined]);
    }
    expect(count(text, "connect_rpc", "ok")).toBe(3);
    expect(count(text, "connect_rpc", "internal")).toBe(1);
    expect(text).toContain(
      'filestore_rpc_server_in_flight{service="account",rpc_service="filestore.account.v1.AccountService"} 0',
    );
    expect(text).not.toContain("alice");
  });

  test("the worker's /metrics (open on an internal port) passes promtool check metrics", async () => {
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("filestore_rpc_server_duration_seconds_bucket");
    expect(await promtoolCheckMetrics(text)).toEqual({ code: 0, output: "" });
    // Scrapes are not traffic.
    expect(text).not.toContain('route="/metrics"');
  });

  test("plain HTTP on the worker's port is counted by route template", async () => {
    await fetch(`${baseUrl}/download/v1/files/some-file-id`);
    const text = await metrics.text();
    expect(text).toContain(
      'filestore_http_server_duration_seconds_count{service="account",method="GET",route="/download/v1/files/{id}",status="404"} 1',
    );
  });
});
