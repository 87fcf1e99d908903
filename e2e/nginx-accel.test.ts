// Debian's nginx in front of the filestore with deploy/nginx/filestore.conf and DOWNLOAD_ACCEL=nginx: the
// download worker checks every request and hands local content to nginx (X-Accel-Redirect), which sends
// the bytes. Downloads through nginx keep every answer of the worker's own path (ranges, validators,
// headers, signed links, ownership); the internal location is unreachable from outside; uploads stream
// through nginx unbuffered.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  connectCall,
  freePorts,
  MODE,
  randomBytes,
  type Stack,
  sha256,
  signedInUser,
  startStack,
} from "./harness.ts";
import { type NginxServer, renderFilestoreConf, startNginx } from "./nginx-server.ts";

let stack: Stack;
let nginx: NginxServer;
let alice: Awaited<ReturnType<typeof signedInUser>>;
let bob: Awaited<ReturnType<typeof signedInUser>>;
const data = randomBytes(2 * 1024 * 1024 + 33);
let file: { id: string; sha256: string };
const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());
const etag = () => `"${file.sha256}"`;

const viaNginx = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  fetch(`${nginx.url}${path}`, { method, headers });
const own = (headers: Record<string, string> = {}, method = "GET", user = alice) =>
  viaNginx(
    `/download/v1/files/${file.id}`,
    { authorization: `Bearer ${user.accessToken}`, ...headers },
    method,
  );

beforeAll(async () => {
  stack = await startStack({ DOWNLOAD_ACCEL: "nginx" });
  const [port] = (await freePorts(1)) as [number];
  const gateway = new URL(stack.gatewayUrl).host;
  nginx = await startNginx(
    renderFilestoreConf({ gateway, port, blobDir: join(stack.dataDir, "blobs-root") }),
    port,
  );
  [alice, bob] = [await signedInUser(nginx.url), await signedInUser(nginx.url)];
  // Uploaded through nginx: the body streams through (no size cap, no buffering in nginx).
  const res = await fetch(`${nginx.url}/upload/v1/files?name=accel.bin`, {
    method: "PUT",
    headers: { authorization: `Bearer ${alice.accessToken}` },
    body: data,
  });
  if (res.status !== 201) throw new Error(`upload through nginx failed: ${res.status} ${await res.text()}`);
  file = ((await res.json()) as { file: typeof file }).file;
}, 90_000);
afterAll(async () => {
  await nginx?.stop();
  await stack?.stop();
});

describe(`downloads sent by nginx (DOWNLOAD_ACCEL=nginx, ${MODE})`, () => {
  test("the worker answers with X-Accel-Redirect and no bytes; nginx sends the file with the worker's headers", async () => {
    const direct = await fetch(`${stack.gatewayUrl}/download/v1/files/${file.id}`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(direct.status).toBe(200);
    expect(direct.headers.get("x-accel-redirect")).toMatch(
      new RegExp(`^/_filestore/blobs/[0-9a-f]{2}/[0-9a-f]{2}/${file.sha256}\\.[0-9a-f]{12}$`),
    );
    expect((await bytes(direct)).length).toBe(0);

    const res = await own();
    expect(res.status).toBe(200);
    expect(res.headers.get("x-accel-redirect")).toBeNull();
    expect(res.headers.get("content-length")).toBe(String(data.length));
    expect(res.headers.get("etag")).toBe(etag());
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(res.headers.get("content-disposition")).toContain("accel.bin");
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    // The request id the gateway adds (all-in-one's download shortcut adds none) is passed on.
    expect(res.headers.has("x-request-id")).toBe(direct.headers.has("x-request-id"));
    expect(sha256(await bytes(res))).toBe(file.sha256);
  });

  test("ranges, If-Range, If-None-Match, HEAD and a range past the end", async () => {
    const size = data.length;
    for (const [range, start, end] of [
      ["bytes=0-0", 0, 0],
      ["bytes=1048576-2097151", 1048576, 2097151],
      ["bytes=-1000", size - 1000, size - 1],
      [`bytes=${size - 10}-`, size - 10, size - 1],
    ] as const) {
      const res = await own({ range });
      expect([range, res.status, res.headers.get("content-range")]).toEqual([
        range,
        206,
        `bytes ${start}-${end}/${size}`,
      ]);
      expect(await bytes(res)).toEqual(data.subarray(start, end + 1));
    }
    const current = await own({ range: "bytes=5-9", "if-range": etag() });
    expect([current.status, (await bytes(current)).length]).toEqual([206, 5]);
    const stale = await own({ range: "bytes=5-9", "if-range": '"0000"' });
    expect(stale.status).toBe(200);
    expect(sha256(await bytes(stale))).toBe(file.sha256);
    const past = await own({ range: `bytes=${size}-` });
    expect([past.status, past.headers.get("content-range")]).toEqual([416, `bytes */${size}`]);
    const notModified = await own({ "if-none-match": etag() });
    expect(notModified.status).toBe(304);
    const head = await own({}, "HEAD");
    expect([head.status, head.headers.get("content-length")]).toEqual([200, String(size)]);
  });

  test("every check stays in the worker: another user, no token, signed links and their tampering", async () => {
    expect((await own({}, "GET", bob)).status).toBe(404);
    expect((await viaNginx(`/download/v1/files/${file.id}`)).status).toBe(401);
    const minted = await connectCall(
      nginx.url,
      "filestore.download.v1.DownloadService/CreateDownloadUrl",
      { fileId: file.id },
      { authorization: `Bearer ${alice.accessToken}` },
    );
    expect(minted.status).toBe(200);
    const link = new URL(minted.json.url as string, nginx.url);
    const res = await viaNginx(`${link.pathname}${link.search}`, { range: "bytes=100-199" });
    expect(res.status).toBe(206);
    expect(await bytes(res)).toEqual(data.subarray(100, 200));
    const forged = `${link.pathname}${link.search.replace(/sig=./, (m) => (m.endsWith("A") ? "sig=B" : "sig=A"))}`;
    expect((await viaNginx(forged)).status).toBe(403);
  });

  test("the internal location answers 404 to anyone who names it", async () => {
    const direct = await fetch(`${stack.gatewayUrl}/download/v1/files/${file.id}`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    const internal = direct.headers.get("x-accel-redirect") as string;
    await direct.body?.cancel();
    const res = await viaNginx(internal);
    expect(res.status).toBe(404);
    expect((await bytes(res)).length).toBeLessThan(1000);
    expect(nginx.errors()).not.toContain("[crit]");
  });
});
