// The gateway's edge against hostile clients (Hono's app.request, fake workers): credentials before any
// body byte, the bounded read of a legacy form, the per-client cap, what may be re-sent.
import { describe, expect, test } from "bun:test";
import type { AccessTokenVerifier } from "../../core/access-token.ts";
import { InvalidTokenError } from "../../core/access-token.ts";
import type { SendOptions } from "../../core/balance.ts";
import { createGateway } from "../app.ts";
import type { Upstream, Upstreams } from "../upstreams.ts";

const verifier: AccessTokenVerifier = {
  async verify(token) {
    if (token === "good") return { userId: "u1", username: "alice", exp: 2e9 };
    throw new InvalidTokenError("invalid access token");
  },
};

interface Call {
  url: string;
  body: string;
  send?: SendOptions;
}

/** A worker that reads the whole body and answers 201; `hold` keeps uploads from being answered until it settles. */
function worker(calls: Call[], hold?: Promise<void>): Upstream {
  return {
    url: "http://worker.internal:1",
    async fetch(req, send) {
      const body = await req.text();
      calls.push({ url: req.url, body, send });
      if (new URL(req.url).pathname.startsWith("/upload/")) await hold;
      return Response.json({ ok: true }, { status: 201 });
    },
  };
}

function gateway(upstream: Upstream, maxDataRequestsPerClient?: number) {
  const upstreams = Object.fromEntries(
    ["account", "file", "upload", "download", "transfer"].map((k) => [k, upstream]),
  ) as Upstreams;
  return createGateway({
    upstreams,
    issuer: "filestore",
    corsOrigins: "*",
    verifier,
    maxDataRequestsPerClient,
  });
}

/** A body of a client that sends on and on (it gives up after 4 MiB), and tells how much was pulled from it. */
function endlessBody(chunk = 16 * 1024) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (pulled >= 4 << 20) return c.error(new Error("the client gave up"));
        pulled += chunk;
        c.enqueue(new Uint8Array(chunk).fill(0x61));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

const put = (body: BodyInit | ReadableStream, headers: Record<string, string> = {}) =>
  ({ method: "PUT", body, headers, duplex: "half" }) as RequestInit;

describe("credentials at the edge, before the body", () => {
  test("a data-plane request without a valid token is refused unread, and no worker sees it", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    for (const [path, headers, message] of [
      ["/upload/v1/files?name=a", {}, "sign in first: send Authorization: Bearer <access token>"],
      ["/upload/v1/sessions/s/parts/1", { authorization: "Bearer forged" }, "invalid access token"],
      ["/upload/v1/files?name=a&token=forged", {}, "invalid access token"],
    ] as const) {
      const body = endlessBody();
      const res = await app.request(path, put(body.stream, { "content-length": "1048576", ...headers }));
      expect([path, res.status, await res.json()]).toEqual([path, 401, { code: "unauthenticated", message }]);
      expect(body.pulled()).toBe(0);
    }
    const tus = await app.request("/upload/v1/tus/abc", { method: "PATCH", body: "x" });
    expect([tus.status, tus.headers.get("tus-resumable"), await tus.text()]).toEqual([
      401,
      "1.0.0",
      "sign in first: send Authorization: Bearer <access token>\n",
    ]);
    expect(calls).toEqual([]);
  });

  test("a valid token, in the header or the query, lets the body through as it came", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const a = await app.request("/upload/v1/files?name=a", put("bytes", { authorization: "Bearer good" }));
    const b = await app.request("/upload/v1/files?name=b&token=good", put("more bytes"));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(calls.map((c) => c.body)).toEqual(["bytes", "more bytes"]);
  });

  test("signed links and tus's OPTIONS need no token, and go on without a body", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const link = await app.request("/download/v1/links/f1?expires=1&sig=x");
    const options = await app.request("/upload/v1/tus/", { method: "OPTIONS", body: "ignored" });
    expect([link.status, options.status]).toEqual([201, 201]);
    expect(calls.map((c) => [new URL(c.url).pathname, c.body])).toEqual([
      ["/download/v1/links/f1", ""],
      ["/upload/v1/tus/", ""],
    ]);
  });
});

const BOUNDARY = "edgeBoundary";
const formType = { "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
const field = (name: string, value: string) =>
  `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const fileField = (data: string) =>
  `--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n\r\n${data}\r\n--${BOUNDARY}--\r\n`;

describe("a form's token field: the one body read before the sender is known, and only its first 64 KiB", () => {
  test("a token field before the file admits the form, which reaches the worker byte for byte", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const form = field("name", "n.txt") + field("token", "good") + fileField("x".repeat(200_000));
    const res = await app.request("/upload/v1/form", { method: "POST", headers: formType, body: form });
    expect(res.status).toBe(201);
    expect(calls[0]?.body).toBe(form);
    const legacy = field("username", "alice") + field("token", "good") + fileField("hello");
    const old = await app.request("/file/upload", { method: "POST", headers: formType, body: legacy });
    expect(await old.json()).toEqual({ code: 0, msg: "OK" });
    expect(calls[1]?.body).toBe(legacy);
    expect(new URL(calls[1]?.url ?? "").pathname).toBe("/upload/v1/form");
  });

  test("a wrong token field, or another user's name, is refused before the file is read", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const forged = await app.request("/upload/v1/form", {
      method: "POST",
      headers: formType,
      body: field("token", "forged") + fileField("x"),
    });
    expect([forged.status, ((await forged.json()) as { message: string }).message]).toEqual([
      401,
      "invalid access token",
    ]);
    const other = await app.request("/file/upload", {
      method: "POST",
      headers: formType,
      body: field("username", "mallory") + field("token", "good") + fileField("x"),
    });
    expect(((await other.json()) as { code: number }).code).toBe(10005);
    expect(calls).toEqual([]);
  });

  test("more than 64 KiB before the file: refused, with no more than that read", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const head = new TextEncoder().encode(
      `${field("a", "b")}--${BOUNDARY}\r\ncontent-disposition: form-data; name="pad"\r\n\r\n`,
    );
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (pulled >= 4 << 20) return c.error(new Error("the client gave up"));
          const chunk = pulled === 0 ? head : new Uint8Array(8 * 1024).fill(0x70);
          pulled += chunk.byteLength;
          c.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    const init = { method: "POST", headers: formType, body, duplex: "half" } as RequestInit;
    const res = await app.request("/upload/v1/form", init);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toContain(
      "more than 64 KiB before its file field",
    );
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 8 * 1024);
    const legacy = await app.request("/file/upload", {
      method: "POST",
      headers: formType,
      body: `${field("pad", "p".repeat(70 * 1024))}${fileField("x")}`,
    });
    expect(((await legacy.json()) as { code: number; msg: string }).code).toBe(10005);
    expect(calls).toEqual([]);
  });
});

describe("legacy parameters, read before their token is known, are bounded", () => {
  test("a body of parameters over 64 KiB is refused (413), unread past the bound", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const form = { "content-type": "application/x-www-form-urlencoded" };
    for (const path of ["/file/query", "/user/signin", "/file/mpupload/init"]) {
      const declared = endlessBody();
      const res = await app.request(path, {
        method: "POST",
        headers: { ...form, "content-length": String(1 << 20) },
        body: declared.stream,
        duplex: "half",
      } as RequestInit);
      expect([path, res.status, await res.json()]).toEqual([
        path,
        413,
        { code: 10001, msg: "the parameters are larger than 64 KiB" },
      ]);
      expect(declared.pulled()).toBe(0);
      const unannounced = endlessBody();
      const chunked = await app.request(path, {
        method: "POST",
        headers: form,
        body: unannounced.stream,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(unannounced.pulled()).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    }
    expect(calls).toEqual([]);
  });
});

describe("the per-client cap on data-plane requests", () => {
  test("past the cap a client is answered 429 until one of its requests ends; others are not held up", async () => {
    let release = () => {};
    const hold = new Promise<void>((r) => {
      release = r;
    });
    const calls: Call[] = [];
    const app = gateway(worker(calls, hold), 2);
    // app.request has no peer address: every request comes from the same client ("unknown").
    const auth = { authorization: "Bearer good" };
    const busy = [1, 2].map((i) => app.request(`/upload/v1/files?name=${i}`, put("b", auth)));
    await Bun.sleep(20);
    const refused = await app.request("/upload/v1/files?name=3", put("b", auth));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { message: string }).message).toContain(
      "at most 2 data-plane requests per client",
    );
    // RPCs are not data-plane requests.
    const rpc = await app.request("/filestore.file.v1.FileService/ListFiles", {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: "{}",
    });
    expect(rpc.status).toBe(201);
    release();
    expect((await Promise.all(busy)).map((r) => r.status)).toEqual([201, 201]);
    const again = await app.request("/upload/v1/files?name=4", put("b", auth));
    expect(again.status).toBe(201);
  });
});

describe("what the gateway may send twice", () => {
  test("bodies of authenticated calls may be kept for a re-send; a public call's may not", async () => {
    const calls: Call[] = [];
    const app = gateway(worker(calls));
    const json = { "content-type": "application/json" };
    await app.request("/filestore.account.v1.AccountService/Signin", {
      method: "POST",
      headers: json,
      body: "{}",
    });
    await app.request("/filestore.file.v1.FileService/ListFiles", {
      method: "POST",
      headers: { ...json, authorization: "Bearer good" },
      body: "{}",
    });
    expect(calls.map((c) => c.send?.replayable)).toEqual([false, true]);
  });
});
