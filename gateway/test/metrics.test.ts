// The gateway's request metrics: the template of the route that answered (legacy routes by their own
// pattern, data-plane paths by the shared templates, anything else "other"), and /metrics behind its token.
import { describe, expect, test } from "bun:test";
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import { InvalidTokenError } from "../../core/access-token.ts";
import { metricsEndpoint } from "../../core/metrics/expose.ts";
import { httpMetrics } from "../../core/metrics/http.ts";
import { MetricsRegistry } from "../../core/metrics/registry.ts";
import { createGateway } from "../app.ts";
import { metricsPortFrom } from "../metrics.ts";
import type { Upstream, Upstreams } from "../upstreams.ts";

const verifier: AccessTokenVerifier = {
  async verify() {
    throw new InvalidTokenError("invalid access token");
  },
};
const upstream: Upstream = {
  url: "http://worker.internal:9101",
  fetch: async () =>
    new Response("{}", { headers: { "content-type": "application/json", "content-length": "2" } }),
};

function gateway() {
  const registry = new MetricsRegistry();
  const upstreams = {
    account: upstream,
    file: upstream,
    upload: upstream,
    download: upstream,
    transfer: upstream,
  };
  const app = createGateway({
    upstreams: upstreams as Upstreams,
    issuer: "filestore",
    corsOrigins: "*",
    verifier,
    metrics: {
      http: httpMetrics(registry, "gateway"),
      endpoint: metricsEndpoint({ token: "tok", requireToken: true, text: () => registry.text() }),
    },
  });
  return { app, registry };
}

const count = (text: string, labels: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`filestore_http_server_duration_seconds_count{service="gateway",${labels}} `))
      ?.split(" ")[1] ?? 0,
  );

describe("gateway request metrics", () => {
  test("routes are counted by template, never by raw path", async () => {
    const { app, registry } = gateway();
    await app.request("/user/signin", {
      method: "POST",
      body: new URLSearchParams({ username: "zed-the-user" }),
    });
    await app.request("/download/v1/files/file-id-123", { headers: { authorization: "Bearer bad" } });
    await app.request("/no/such/place-secret-name.txt");
    await app.request("/filestore.account.v1.AccountService/Signup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const text = registry.text();
    expect(count(text, 'method="POST",route="/user/signin",status="200"')).toBe(1);
    expect(count(text, 'method="GET",route="/download/v1/files/{id}",status="401"')).toBe(1);
    expect(count(text, 'method="GET",route="other",status="404"')).toBe(1);
    expect(count(text, 'method="POST",route="/{rpc}",status="200"')).toBe(1);
    for (const leak of ["zed-the-user", "file-id-123", "secret-name", "AccountService"])
      expect([leak, text.includes(leak)]).toEqual([leak, false]);
  });

  test("/metrics needs the token on the public port", async () => {
    const { app } = gateway();
    expect((await app.request("/metrics")).status).toBe(401);
    const ok = await app.request("/metrics", { headers: { authorization: "Bearer tok" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("filestore_http_server_duration_seconds_bucket");
  });

  test("METRICS_PORT is a port number or a clear error", () => {
    expect(metricsPortFrom(undefined)).toBeUndefined();
    expect(metricsPortFrom("9464")).toBe(9464);
    expect(() => metricsPortFrom("http")).toThrow(/METRICS_PORT must be a port number/);
    expect(() => metricsPortFrom("70000")).toThrow(/METRICS_PORT/);
  });
});
