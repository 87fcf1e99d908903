// The gateway with its workers down (network upstreams at a port nobody listens on): every route family
// answers "the <service> service is unavailable, retry in a moment" with the request id and Retry-After,
// and never the address it could not reach.
import { describe, expect, test } from "bun:test";
import type { AccessTokenVerifier, Identity } from "../../core/access-token.ts";
import { closedPort } from "../../workers/lib/testing.ts";
import { createGateway } from "../app.ts";
import { networkUpstreams } from "../upstreams.ts";

const verifier: AccessTokenVerifier = {
  async verify(): Promise<Identity> {
    return { userId: "u1", username: "alice", exp: 2e9 };
  },
};

async function downGateway() {
  const dead = `http://127.0.0.1:${closedPort()}`;
  const upstreams = networkUpstreams({
    account: dead,
    file: dead,
    upload: dead,
    download: dead,
    transfer: dead,
    dav: dead,
  });
  return createGateway({ upstreams, issuer: "filestore", corsOrigins: "*", verifier });
}

const hint = (service: string, rid: string | null) =>
  `the ${service} service is unavailable, retry in a moment (request id ${rid})`;

describe("workers that cannot be reached", () => {
  test("RPCs answer Unavailable naming the service, with the request id and Retry-After", async () => {
    const app = await downGateway();
    const res = await app.request("/filestore.file.v1.FileService/ListFiles", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer good", "x-request-id": "rid-1" },
      body: "{}",
    });
    expect([res.status, res.headers.get("retry-after"), res.headers.get("x-request-id")]).toEqual([
      503,
      "5",
      "rid-1",
    ]);
    expect(await res.json()).toEqual({ code: "unavailable", message: hint("file", "rid-1") });
    const grpcWeb = await app.request("/filestore.file.v1.FileService/ListFiles", {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", authorization: "Bearer good" },
      body: new Uint8Array(5),
    });
    expect(grpcWeb.headers.get("grpc-status")).toBe("14");
    expect(decodeURIComponent(grpcWeb.headers.get("grpc-message") ?? "")).toBe(
      hint("file", grpcWeb.headers.get("x-request-id")),
    );
  });

  test("the data plane answers 503 JSON with the request id and Retry-After", async () => {
    const app = await downGateway();
    const res = await app.request("/upload/v1/files?name=a.txt", {
      method: "PUT",
      headers: { authorization: "Bearer good" },
      body: "hello",
    });
    expect([res.status, res.headers.get("retry-after")]).toEqual([503, "5"]);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      code: "unavailable",
      message: hint("upload", res.headers.get("x-request-id")),
    });
    expect(text).not.toContain("127.0.0.1");
  });

  test("legacy routes answer their server-failure codes with the same message", async () => {
    const app = await downGateway();
    const form = new FormData();
    form.set("file", new File(["hello"], "a.txt"));
    const upload = await app.request("/file/upload?username=alice&token=good", {
      method: "POST",
      body: form,
    });
    expect(await upload.json()).toEqual({
      code: -6,
      msg: hint("upload", upload.headers.get("x-request-id")),
    });
    const signin = await app.request("/user/signin", {
      method: "POST",
      body: new URLSearchParams({ username: "alice", password: "password1" }),
    });
    expect(await signin.json()).toEqual({
      code: 10002,
      msg: hint("account", signin.headers.get("x-request-id")),
    });
    // /file/query answers a bare array: its failures are HTTP errors.
    const query = await app.request("/file/query?username=alice&token=good&limit=5", { method: "POST" });
    expect([query.status, query.headers.get("retry-after")]).toEqual([503, "5"]);
    expect(await query.json()).toEqual({
      code: "unavailable",
      message: hint("file", query.headers.get("x-request-id")),
    });
  });
});
