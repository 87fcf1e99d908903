// Hostile clients at the edge, in either mode: requests that declare a body and never send it (the
// gateway's memory), connections that send nothing or half a head, uploads that stall mid-body (their
// temporary files), and one client flooding the data plane.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { eventually, MODE, servicePid, signedInUser, startAllInOne, startStack } from "./harness.ts";
import { head, type RawConnection, rawConnect, rssMiB, within } from "./raw-client.ts";

const HEADER_S = 3;
const IDLE_S = 4;
const KEEPALIVE_S = 6;
const CAP = 6;
// Bun.serve (the all-in-one gateway, or GATEWAY_RUNTIME=bun) closes a connection without a complete head
// after its own ~10 s (checked every 4 s), and its one idle timer (HTTP_IDLE_TIMEOUT_SECONDS) stands for
// keep-alive too.
const BUN_GATEWAY = MODE === "allinone" || process.env.GATEWAY_RUNTIME === "bun";
const GATEWAY_HEADER_S = BUN_GATEWAY ? 12 : HEADER_S;
const GATEWAY_KEEPALIVE_S = BUN_GATEWAY ? 8 : KEEPALIVE_S;
const MARGIN_MS = 4_000;
const MiB = 1024 * 1024;

interface Target {
  gatewayUrl: string;
  /** A worker port with the upload data plane (all-in-one: the GRPC_PORT, which serves every service). */
  workerUrl: string;
  gatewayPid: number;
  tmpDir: string;
  stop(): Promise<unknown>;
}

let target: Target;
let token: string;
let username: string;

beforeAll(async () => {
  const env = {
    HTTP_HEADER_TIMEOUT_SECONDS: String(HEADER_S),
    HTTP_IDLE_TIMEOUT_SECONDS: String(IDLE_S),
    HTTP_KEEPALIVE_SECONDS: String(KEEPALIVE_S),
    GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT: String(CAP),
  };
  if (MODE === "allinone") {
    const aio = await startAllInOne(env);
    target = {
      gatewayUrl: aio.gatewayUrl,
      workerUrl: aio.grpcUrl,
      gatewayPid: aio.proc.pid,
      tmpDir: join(aio.dataDir, "blobs-root", "tmp"),
      stop: () => aio.stop(),
    };
  } else {
    const stack = await startStack(env);
    target = {
      gatewayUrl: stack.gatewayUrl,
      workerUrl: stack.uploadUrl,
      gatewayPid: servicePid(stack.runDir as string, "gateway"),
      tmpDir: join(stack.dataDir, "blobs-root", "tmp"),
      stop: () => stack.stop(),
    };
  }
  const user = await signedInUser(target.gatewayUrl);
  token = user.accessToken;
  username = user.username;
}, 90_000);
afterAll(() => target?.stop());

const tmpFiles = () => readdirSync(target.tmpDir).filter((n) => !n.startsWith("."));
const BOUNDARY = "hostileBoundary";
const formHead = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join("") +
  `--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="stall.bin"\r\n` +
  "content-type: application/octet-stream\r\n\r\n";
const formType = { "content-type": `multipart/form-data; boundary=${BOUNDARY}` };

describe(`hostile clients (${MODE})`, () => {
  test("300 requests that declare 1 MiB and send nothing grow the gateway by less than 50 MiB", async () => {
    const declared = { "content-length": String(MiB) };
    const json = { ...declared, "content-type": "application/json" };
    const requests = [
      head("PUT", "/upload/v1/files?name=a.bin", declared),
      head("PUT", "/upload/v1/sessions/s1/parts/1", declared),
      head("POST", "/upload/v1/form", { ...declared, ...formType }),
      head("POST", `/file/upload?username=${username}`, { ...declared, ...formType }),
      head("PATCH", "/upload/v1/tus/s1", { ...declared, "tus-resumable": "1.0.0" }),
      head("POST", "/filestore.file.v1.FileService/ListFiles", json),
      head("POST", "/filestore.upload.v1.UploadService/ListParts", json),
    ];
    const before = rssMiB(target.gatewayPid);
    const open: RawConnection[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const c = await rawConnect(target.gatewayUrl);
        open.push(c);
        await c.write(requests[i % requests.length] as string);
      }
      // The old gateway set 1 MiB aside for each over the next seconds: the peak of 5 s counts.
      let peak = 0;
      for (let t = 0; t < 20; t++) {
        await Bun.sleep(250);
        peak = Math.max(peak, rssMiB(target.gatewayPid));
      }
      expect(peak - before).toBeLessThan(50);
      // Nothing was authenticated: all but the forms (whose token may come as a field) were refused unread,
      // for want of a token or, once the waiting forms filled this client's cap, of room.
      const others = open.filter((_, i) => !(requests[i % requests.length] as string).includes("form-data"));
      const refused = others.filter((c) => /^HTTP\/1\.1 (401|429) /.test(c.received()));
      expect(refused.length).toBe(others.length);
    } finally {
      for (const c of open) c.destroy();
    }
  }, 60_000);

  test("a connection that sends nothing, or half a head, is closed within the header timeout", async () => {
    const cases = [
      { url: target.gatewayUrl, limit: GATEWAY_HEADER_S, send: "" },
      { url: target.gatewayUrl, limit: GATEWAY_HEADER_S, send: "GET /healthz HTTP/1.1\r\nhost: x\r\n" },
      { url: target.workerUrl, limit: HEADER_S, send: "" },
      { url: target.workerUrl, limit: HEADER_S, send: "GET /healthz HTTP/1.1\r\nhost: x\r\n" },
    ];
    const results = await Promise.all(
      cases.map(async ({ url, limit, send }) => {
        const c = await rawConnect(url);
        if (send) await c.write(send);
        const ok = await within(c.closed, limit * 1000 + MARGIN_MS);
        c.destroy();
        return { url, send, closed: ok };
      }),
    );
    expect(results).toEqual(cases.map(({ url, send }) => ({ url, send, closed: true })));
  }, 40_000);

  test("an idle kept-alive connection is closed after the keep-alive timeout", async () => {
    const cases = [
      { url: target.gatewayUrl, limit: GATEWAY_KEEPALIVE_S, path: "/healthz" },
      { url: target.workerUrl, limit: KEEPALIVE_S, path: "/grpc.health.v1.Health/Check" },
    ];
    const results = await Promise.all(
      cases.map(async ({ url, limit, path }) => {
        const c = await rawConnect(url);
        const body = "{}";
        await c.write(
          head("POST", path, { "content-type": "application/json", "content-length": String(body.length) }) +
            body,
        );
        await eventually(async () => c.received().includes("\r\n\r\n"), 5_000);
        c.since();
        const ok = await within(c.closed, limit * 1000 + MARGIN_MS);
        c.destroy();
        return { url, answered: c.received().split(" ")[0], closed: ok };
      }),
    );
    expect(results).toEqual(cases.map(({ url }) => ({ url, answered: "HTTP/1.1", closed: true })));
  }, 40_000);

  test("an upload that stalls mid-body is cut at the idle timeout and leaves no temporary file", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const declared = { "content-length": String(8 * MiB) };
    const stalls = [
      {
        url: target.gatewayUrl,
        head: head("PUT", "/upload/v1/files?name=stall.bin", { ...auth, ...declared }),
      },
      {
        url: target.workerUrl,
        head: head("PUT", "/upload/v1/files?name=stall.bin", { ...auth, ...declared }),
      },
      {
        url: target.gatewayUrl,
        head: head("POST", "/upload/v1/form", { ...auth, ...declared, ...formType }) + formHead({}),
      },
      {
        // The legacy form: the token comes as a field before the file.
        url: target.gatewayUrl,
        head: head("POST", "/file/upload", { ...declared, ...formType }) + formHead({ username, token }),
      },
    ];
    const conns = await Promise.all(
      stalls.map(async (s) => {
        const c = await rawConnect(s.url);
        await c.write(s.head);
        await c.write(new Uint8Array(MiB).fill(7));
        c.since();
        return c;
      }),
    );
    // Each write got as far as a temporary file...
    expect(await eventually(async () => tmpFiles().length === stalls.length, 3_000)).toBe(true);
    const results = await Promise.all(
      conns.map(async (c, i) => {
        const cut = await within(c.closed, IDLE_S * 1000 + MARGIN_MS);
        c.destroy();
        const s = stalls[i] as (typeof stalls)[number];
        return { url: s.url, route: s.head.split(" ", 2).join(" "), cut };
      }),
    );
    expect(results).toEqual(
      stalls.map((s) => ({ url: s.url, route: s.head.split(" ", 2).join(" "), cut: true })),
    );
    // ...and every one is gone.
    expect(await eventually(async () => tmpFiles().length === 0, 10_000)).toBe(true);
  }, 60_000);

  test(`one client may have at most ${CAP} data-plane requests in progress: the next is answered 429`, async () => {
    const auth = { authorization: `Bearer ${token}` };
    const busy: RawConnection[] = [];
    try {
      for (let i = 0; i < CAP; i++) {
        const c = await rawConnect(target.gatewayUrl);
        busy.push(c);
        await c.write(
          head("PUT", `/upload/v1/files?name=busy${i}.bin`, { ...auth, "content-length": "100000" }),
        );
        await c.write(new Uint8Array(1000));
      }
      await Bun.sleep(300);
      const refused = await fetch(`${target.gatewayUrl}/upload/v1/files?name=one-more.bin`, {
        method: "PUT",
        headers: auth,
        body: "hello",
      });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { message: string }).message).toContain(
        `at most ${CAP} data-plane requests`,
      );
    } finally {
      for (const c of busy) c.destroy();
    }
    // Once they are gone, the client is served again.
    expect(
      await eventually(async () => {
        const res = await fetch(`${target.gatewayUrl}/upload/v1/files?name=after.bin`, {
          method: "PUT",
          headers: auth,
          body: "hello",
        });
        return res.status === 201;
      }, 10_000),
    ).toBe(true);
  }, 30_000);
});
