// The gateway on its own (Hono's app.request), with fake upstream workers.
import { describe, expect, test } from "bun:test";
import type { AccessTokenVerifier, Identity } from "../../core/access-token.ts";
import { InvalidTokenError } from "../../core/access-token.ts";
import { createGateway } from "../app.ts";
import { legacyFileRoutes } from "../legacy/file.ts";
import type { Upstream, Upstreams } from "../upstreams.ts";

const verifier: AccessTokenVerifier = {
  async verify(token): Promise<Identity> {
    if (token === "good") return { userId: "u1", username: "alice", exp: 2e9 };
    throw new InvalidTokenError("invalid access token");
  },
};

interface Seen {
  url: string;
  headers: Headers;
  body: Uint8Array;
}

function echoUpstream(seen: Seen[]): Upstream {
  return {
    url: "http://worker.internal:9101",
    async fetch(req) {
      const body = new Uint8Array(await req.arrayBuffer());
      seen.push({ url: req.url, headers: req.headers, body });
      return new Response(body, {
        status: 200,
        headers: { "content-type": req.headers.get("content-type") ?? "" },
      });
    },
  };
}

function gateway(upstream: Upstream, trustedProxies?: string[]) {
  const upstreams = {
    account: upstream,
    file: upstream,
    upload: upstream,
    download: upstream,
    transfer: upstream,
  } as Upstreams;
  return createGateway({ upstreams, issuer: "filestore", corsOrigins: "*", verifier, trustedProxies });
}

describe("RPC pass-through", () => {
  test("forwards bytes unchanged, sets X-Forwarded-For to the client, drops hop-by-hop, asks for identity", async () => {
    const seen: Seen[] = [];
    const app = gateway(echoUpstream(seen));
    const payload = new Uint8Array([0, 0, 0, 0, 3, 0x0a, 0x01, 0xff]);
    const res = await app.request("/filestore.account.v1.AccountService/GetUserInfo", {
      method: "POST",
      headers: {
        "content-type": "application/grpc-web+proto",
        authorization: "Bearer good",
        "accept-encoding": "gzip",
        connection: "keep-alive",
        "x-forwarded-for": "198.51.100.7",
        "x-grpc-web": "1",
      },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(payload);
    const s = seen[0] as Seen;
    expect(s.url).toBe("http://worker.internal:9101/filestore.account.v1.AccountService/GetUserInfo");
    expect(s.body).toEqual(payload);
    expect(s.headers.get("authorization")).toBe("Bearer good");
    expect(s.headers.get("x-grpc-web")).toBe("1");
    expect(s.headers.get("accept-encoding")).toBe("identity");
    expect(s.headers.get("connection")).toBeNull();
    // The peer (none in process: "unknown") is no trusted proxy, so the client's own header proves nothing.
    expect(s.headers.get("x-forwarded-for")).toBe("unknown");
    expect(s.headers.get("x-request-id")).toBe(res.headers.get("x-request-id"));
  });

  test("public calls pass without a token; others need one", async () => {
    const seen: Seen[] = [];
    const app = gateway(echoUpstream(seen));
    const json = { "content-type": "application/json" };
    expect(
      (
        await app.request("/filestore.account.v1.AccountService/Signin", {
          method: "POST",
          headers: json,
          body: "{}",
        })
      ).status,
    ).toBe(200);
    const denied = await app.request("/filestore.file.v1.FileService/ListFiles", {
      method: "POST",
      headers: json,
      body: "{}",
    });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({
      code: "unauthenticated",
      message: "sign in first: send Authorization: Bearer <access token>",
    });
    expect(seen).toHaveLength(1);
  });

  test("edge errors speak the caller's protocol", async () => {
    const app = gateway(echoUpstream([]));
    const path = "/filestore.account.v1.AccountService/GetUserInfo";
    const headers = { authorization: "Bearer forged" };
    const grpcWeb = await app.request(path, {
      method: "POST",
      headers: { ...headers, "content-type": "application/grpc-web+proto" },
      body: "",
    });
    expect([grpcWeb.status, grpcWeb.headers.get("grpc-status")]).toEqual([200, "16"]);
    expect(decodeURIComponent(grpcWeb.headers.get("grpc-message") ?? "")).toBe("invalid access token");
    const stream = await app.request(path, {
      method: "POST",
      headers: { ...headers, "content-type": "application/connect+json" },
      body: "",
    });
    const bytes = new Uint8Array(await stream.arrayBuffer());
    expect(bytes[0]).toBe(0b10); // end-of-stream flag
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(5)))).toEqual({
      error: { code: "unauthenticated", message: "invalid access token" },
    });
    const unary = await app.request(path, {
      method: "POST",
      headers: { ...headers, "content-type": "application/proto" },
      body: "",
    });
    expect(unary.status).toBe(401);
  });

  test("internal and unknown services are not routed", async () => {
    const seen: Seen[] = [];
    const app = gateway(echoUpstream(seen));
    for (const svc of [
      "filestore.meta.v1.UserService",
      "filestore.meta.v1.ContentService",
      "filestore.meta.v1.TreeService",
      "grpc.health.v1.Health",
      "nope.Service",
    ]) {
      const res = await app.request(`/${svc}/Anything`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer good" },
        body: "{}",
      });
      expect([svc, res.status]).toEqual([svc, 404]);
    }
    expect(seen).toHaveLength(0);
  });

  test("an unreachable worker is Unavailable with an actionable message", async () => {
    const app = gateway({
      url: "http://127.0.0.1:1",
      fetch: () => Promise.reject(new TypeError("connection refused")),
    });
    const res = await app.request("/filestore.account.v1.AccountService/Signin", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(503);
    const rid = res.headers.get("x-request-id");
    expect(rid).toBeTruthy();
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({
      code: "unavailable",
      message: `the account service is unavailable, retry in a moment (request id ${rid})`,
    });
  });
});

describe("client address behind TRUSTED_PROXIES", () => {
  // What `deno serve` hands the app: the TCP peer.
  const from = (hostname: string) => ({ remoteAddr: { hostname } });
  const signin = (app: ReturnType<typeof gateway>, peer: string, xff?: string) =>
    app.request(
      "/filestore.account.v1.AccountService/Signin",
      {
        method: "POST",
        headers: { "content-type": "application/json", ...(xff ? { "x-forwarded-for": xff } : {}) },
        body: "{}",
      },
      from(peer),
    );

  test("behind a trusted load balancer the worker gets the rightmost untrusted hop, alone", async () => {
    const seen: Seen[] = [];
    const app = gateway(echoUpstream(seen), ["10.0.0.0/8", "fd00::/8"]);
    await signin(app, "10.0.3.4", "198.51.100.7");
    await signin(app, "10.0.3.4", "6.6.6.6, 198.51.100.8, 10.0.9.9");
    await signin(app, "fd00::17", "2001:db8::5");
    expect(seen.map((s) => s.headers.get("x-forwarded-for"))).toEqual([
      "198.51.100.7",
      "198.51.100.8",
      "2001:db8::5",
    ]);
  });

  test("a client that is no trusted proxy cannot choose its address, whatever it sends", async () => {
    const seen: Seen[] = [];
    const trusting = gateway(echoUpstream(seen), ["10.0.0.0/8"]);
    await signin(trusting, "203.0.113.50", "10.0.3.4");
    await signin(trusting, "203.0.113.50", "198.51.100.7, 10.0.3.4");
    // By default the gateway trusts nobody, not even loopback.
    await signin(gateway(echoUpstream(seen)), "127.0.0.1", "198.51.100.7");
    expect(seen.map((s) => s.headers.get("x-forwarded-for"))).toEqual([
      "203.0.113.50",
      "203.0.113.50",
      "127.0.0.1",
    ]);
  });

  test("a bad TRUSTED_PROXIES entry stops the gateway at start", () => {
    expect(() => gateway(echoUpstream([]), ["10.0.0.0/40"])).toThrow(/TRUSTED_PROXIES: bad network/);
  });
});

describe("CORS for Connect-Web", () => {
  test("preflight allows Connect and gRPC-Web headers and exposes grpc-status", async () => {
    const app = gateway(echoUpstream([]));
    const res = await app.request("/filestore.account.v1.AccountService/GetUserInfo", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    const allow = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of [
      "connect-protocol-version",
      "connect-timeout-ms",
      "x-grpc-web",
      "x-user-agent",
      "authorization",
    ]) {
      expect(allow).toContain(h);
    }
    const simple = await app.request("/healthz", { headers: { origin: "http://localhost:5173" } });
    expect((simple.headers.get("access-control-expose-headers") ?? "").toLowerCase()).toContain(
      "grpc-status",
    );
  });
});

describe("download data plane and legacy download routes", () => {
  /** A download worker stand-in: records requests, answers 206 for Range, 404 for unknown hashes. */
  function downloadUpstream(seen: Seen[]): Upstream {
    return {
      url: "http://download.internal:38080",
      async fetch(req) {
        seen.push({ url: req.url, headers: req.headers, body: new Uint8Array() });
        const path = new URL(req.url).pathname;
        if (path.endsWith("/CreateDownloadUrl"))
          return Response.json({ url: "/download/v1/links/f1?expires=1&gen=0&sig=x" });
        if (path.includes("/by-sha1/0000"))
          return Response.json({ code: "not_found", message: "no such file" }, { status: 404 });
        const ranged = req.headers.has("range");
        return new Response(ranged ? "abc" : "abcdef", {
          status: ranged ? 206 : 200,
          headers: ranged ? { "content-range": "bytes 0-2/6" } : {},
        });
      },
    };
  }

  test("/download/* goes to the download worker with Range and If-* headers; the answer comes back", async () => {
    const seen: Seen[] = [];
    const app = gateway(downloadUpstream(seen));
    const res = await app.request("/download/v1/files/f1?x=1", {
      headers: {
        range: "bytes=0-2",
        "if-range": '"e"',
        "if-none-match": '"n"',
        authorization: "Bearer good",
      },
    });
    expect([res.status, res.headers.get("content-range"), await res.text()]).toEqual([
      206,
      "bytes 0-2/6",
      "abc",
    ]);
    expect(seen[0]?.url).toBe("http://download.internal:38080/download/v1/files/f1?x=1");
    for (const [h, v] of [
      ["range", "bytes=0-2"],
      ["if-range", '"e"'],
      ["if-none-match", '"n"'],
      ["authorization", "Bearer good"],
    ])
      expect(seen[0]?.headers.get(h as string)).toBe(v as string);
  });

  test("legacy downloadurl answers an absolute link as plain text; legacy download maps errors", async () => {
    const seen: Seen[] = [];
    const app = gateway(downloadUpstream(seen));
    const hash = "a".repeat(40);
    const link = await app.request(
      `http://gw.example/file/downloadurl?username=alice&token=good&filehash=${hash}`,
      {
        method: "POST",
      },
    );
    expect(link.headers.get("content-type")).toBe("application/octet-stream");
    expect(await link.text()).toBe("http://gw.example/download/v1/links/f1?expires=1&gen=0&sig=x");
    const got = await app.request(`/file/download?username=alice&token=good&filehash=${hash}`, {
      headers: { range: "bytes=0-2" },
    });
    expect([got.status, await got.text()]).toEqual([206, "abc"]);
    expect(seen.at(-1)?.url).toBe(`http://download.internal:38080/download/v1/by-sha1/${hash}`);
    expect(seen.at(-1)?.headers.get("authorization")).toBe("Bearer good");
    const missing = await app.request(`/file/download?username=alice&token=good&filehash=${"0".repeat(40)}`);
    expect([missing.status, await missing.text()]).toEqual([404, "File not found.\n"]);
    const bad = await app.request(`/file/download?username=alice&token=bad&filehash=${hash}`);
    expect(((await bad.json()) as { code: number }).code).toBe(10005);
    const other = await app.request(`/file/download?username=mallory&token=good&filehash=${hash}`);
    expect(((await other.json()) as { code: number }).code).toBe(10005);
  });

  test("each legacy file route is registered once (the first registration is the one that answers)", () => {
    const upstream = downloadUpstream([]);
    const routes = legacyFileRoutes({
      upload: upstream,
      file: upstream,
      download: upstream,
      verifier,
    }).routes;
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toContain("GET /download");
    expect(keys).toContain("POST /downloadurl");
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });
});

describe("legacy upload", () => {
  test("/file/upload streams the form to the upload worker and asks for the SHA-1 on the request", async () => {
    const seen: Seen[] = [];
    const upload: Upstream = {
      url: "http://upload.internal:9102",
      async fetch(req) {
        seen.push({ url: req.url, headers: req.headers, body: new Uint8Array(await req.arrayBuffer()) });
        return Response.json({ file: { id: "f1" } }, { status: 201 });
      },
    };
    const app = gateway(upload);
    const form = new FormData();
    form.set("file", new File(["hello"], "a.txt"));
    const res = await app.request("/file/upload?username=alice&token=good", { method: "POST", body: form });
    expect(await res.json()).toEqual({ code: 0, msg: "OK" });
    const url = new URL(seen[0]?.url ?? "");
    expect(url.pathname).toBe("/upload/v1/form");
    // sha1=now: its filehash must be known at once (modern uploads leave it to the background backfill).
    expect([url.searchParams.get("token"), url.searchParams.get("sha1")]).toEqual(["good", "now"]);
    expect(new TextDecoder().decode(seen[0]?.body)).toContain("hello");
  });
});

describe("the web app's Content-Security-Policy", () => {
  const gatewayWith = (downloadEntry?: string) => {
    const upstream = echoUpstream([]);
    const upstreams = {
      account: upstream,
      file: upstream,
      upload: upstream,
      download: upstream,
      transfer: upstream,
    };
    return createGateway({
      upstreams: upstreams as Upstreams,
      issuer: "filestore",
      corsOrigins: "*",
      verifier,
      downloadEntry,
    });
  };
  const csp = async (downloadEntry?: string) => {
    const res = await gatewayWith(downloadEntry).request("/");
    expect(res.status).toBe(200);
    return (res.headers.get("content-security-policy") ?? "").split("; ");
  };

  test("share links (/s/<id> and below) are the same app with the same headers", async () => {
    const app = gatewayWith();
    const home = await app.request("/");
    for (const path of ["/s/AbCdEfGhIjKlMnOpQrStUv", "/s/AbCdEfGhIjKlMnOpQrStUv/f/folder-id"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(await home.clone().text());
      for (const h of ["content-security-policy", "x-frame-options", "referrer-policy", "content-type"])
        expect(res.headers.get(h)).toBe(home.headers.get(h));
    }
    expect((await app.request("/s/")).status).toBe(404);
  });

  test("thumbnails, media and PDF frames from this origin only, by default", async () => {
    const got = await csp();
    expect(got).toContain("script-src 'self'");
    expect(got).toContain("img-src 'self' data:");
    expect(got).toContain("media-src 'self'");
    expect(got).toContain("frame-src 'self'");
  });

  test("and from PUBLIC_DOWNLOAD_URL's origin when downloads are served there; scripts never", async () => {
    const got = await csp("https://files.example.com/some/path");
    expect(got).toContain("img-src 'self' https://files.example.com data:");
    expect(got).toContain("media-src 'self' https://files.example.com");
    expect(got).toContain("frame-src 'self' https://files.example.com");
    expect(got).toContain("script-src 'self'");
    expect(got).toContain("default-src 'self'");
    // Not a URL: ignored rather than written into the policy.
    expect(await csp("files.example.com; script-src *")).toContain("img-src 'self' data:");
  });
});
