// Downloads through the gateway, in either mode: ranges, validators, HEAD, names in Content-Disposition,
// signed links (no login, expiry, tampering, revocation), ownership, a file's versions (a link per version,
// an ETag per version), and the legacy routes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { filenameOf } from "../workers/download/testing.ts";
import { connectCall, eventually, randomBytes, type Stack, signedInUser } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

const MODE = process.env.FILESTORE_TEST_MODE ?? "allinone";
const DOWNLOAD = "filestore.download.v1.DownloadService";

let stack: Stack;
let alice: Awaited<ReturnType<typeof signedInUser>>;
let bob: Awaited<ReturnType<typeof signedInUser>>;
const data = randomBytes(3 * 1024 * 1024 + 17);
let file: { id: string; sha256: string };
const sha1 = new Bun.CryptoHasher("sha1").update(data).digest("hex");
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());

async function upload(user: typeof alice, name: string, body: Uint8Array<ArrayBuffer>) {
  const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${user.accessToken}` },
    body,
  });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { file: { id: string; sha256: string } }).file;
}

const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  fetch(`${stack.gatewayUrl}${path}`, { method, headers });
const own = (headers: Record<string, string> = {}, method = "GET") =>
  get(`/download/v1/files/${file.id}`, { authorization: `Bearer ${alice.accessToken}`, ...headers }, method);
const rpc = (method: string, body: unknown, user = alice) =>
  connectCall(stack.gatewayUrl, `${DOWNLOAD}/${method}`, body, {
    authorization: `Bearer ${user.accessToken}`,
  });

beforeAll(async () => {
  stack = await sharedStack();
  [alice, bob] = [await signedInUser(stack.gatewayUrl), await signedInUser(stack.gatewayUrl)];
  file = await upload(alice, "data.bin", data);
  // The legacy routes find it by SHA-1, which a modern upload gets from the backfill shortly after.
  const bySha1 = async () =>
    (await get(`/download/v1/by-sha1/${sha1}`, { authorization: `Bearer ${alice.accessToken}` }, "HEAD"))
      .status === 200;
  if (!(await eventually(bySha1))) throw new Error("the SHA-1 of the upload was never backfilled");
}, 60_000);
afterAll(() => stack?.stop());

describe(`downloads through the gateway (${MODE})`, () => {
  test("the whole file, then the range matrix; the ranges reassemble the file", async () => {
    const whole = await own();
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(data.length));
    expect(sha256(await bytes(whole))).toBe(sha256(data));
    const size = data.length;
    const cases: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
      ["bytes=1048576-2097151", 1048576, 2097151],
      ["bytes=-1000", size - 1000, size - 1],
      [`bytes=${size - 5000}-`, size - 5000, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await own({ range });
      expect([range, res.status, res.headers.get("content-range")]).toEqual([
        range,
        206,
        `bytes ${start}-${end}/${size}`,
      ]);
      expect(await bytes(res)).toEqual(data.subarray(start, end + 1));
    }
    const past = await own({ range: `bytes=${size}-` });
    expect([past.status, past.headers.get("content-range")]).toEqual([416, `bytes */${size}`]);
    const parts = [];
    for (let at = 0; at < size; at += 1_000_000)
      parts.push(await bytes(await own({ range: `bytes=${at}-${Math.min(size, at + 1_000_000) - 1}` })));
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
  });

  test("ETag, If-None-Match → 304, If-Range, HEAD", async () => {
    const etag = `"${file.sha256}"`;
    const head = await own({}, "HEAD");
    expect([head.status, head.headers.get("etag"), head.headers.get("content-length")]).toEqual([
      200,
      etag,
      String(data.length),
    ]);
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    expect((await bytes(head)).length).toBe(0);
    const cached = await own({ "if-none-match": etag });
    expect([cached.status, (await bytes(cached)).length]).toEqual([304, 0]);
    const resumed = await own({ range: "bytes=100-199", "if-range": etag });
    expect([resumed.status, (await bytes(resumed)).length]).toEqual([206, 100]);
    const stale = await own({ range: "bytes=100-199", "if-range": '"stale"' });
    expect([stale.status, (await bytes(stale)).length]).toEqual([200, data.length]);
  });

  test("versions: each downloads by its id (a signed link), with its own ETag; the file's stays the current one", async () => {
    const v1 = randomBytes(70_000);
    const v2 = randomBytes(50_000);
    const doc = await upload(alice, "versioned.bin", v1);
    const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=versioned.bin&on_conflict=replace`, {
      method: "PUT",
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: v2,
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { file: { id: string } }).file.id).toBe(doc.id);
    const listed = await connectCall(
      stack.gatewayUrl,
      "filestore.file.v1.FileService/ListVersions",
      { fileId: doc.id },
      { authorization: `Bearer ${alice.accessToken}` },
    );
    const versions = listed.json.versions as { id: string; sha256: string }[];
    expect(versions.map((v) => v.sha256)).toEqual([sha256(v1)]);
    const versionId = versions[0]?.id as string;
    const link = await rpc("CreateDownloadUrl", { fileId: doc.id, versionId });
    expect(link.status).toBe(200);
    const url = link.json.url as string;
    const old = await get(url);
    expect([old.status, old.headers.get("etag")]).toEqual([200, `"${sha256(v1)}"`]);
    expect(sha256(await bytes(old))).toBe(sha256(v1));
    const range = await get(url, { range: "bytes=10-19" });
    expect([range.status, ...(await bytes(range))]).toEqual([206, ...v1.subarray(10, 20)]);
    expect((await get(url, { "if-none-match": `"${sha256(v1)}"` })).status).toBe(304);
    // The file itself (by id, or by a link without a version) is the current content, with its own ETag.
    const current = await get(`/download/v1/files/${doc.id}`, {
      authorization: `Bearer ${alice.accessToken}`,
    });
    expect([current.status, current.headers.get("etag")]).toEqual([200, `"${sha256(v2)}"`]);
    expect(sha256(await bytes(current))).toBe(sha256(v2));
    const plain = await get((await rpc("CreateDownloadUrl", { fileId: doc.id })).json.url as string);
    expect([plain.status, plain.headers.get("etag")]).toEqual([200, `"${sha256(v2)}"`]);
    await plain.arrayBuffer();
    // The old ETag does not match the current content: a cache refreshes.
    const revalidated = await get(`/download/v1/files/${doc.id}`, {
      authorization: `Bearer ${alice.accessToken}`,
      "if-none-match": `"${sha256(v1)}"`,
    });
    expect(revalidated.status).toBe(200);
    await revalidated.arrayBuffer();
    // Another user cannot link someone's version; an unknown version id is not found.
    expect((await rpc("CreateDownloadUrl", { fileId: doc.id, versionId }, bob)).status).toBe(404);
    expect((await rpc("CreateDownloadUrl", { fileId: doc.id, versionId: crypto.randomUUID() })).status).toBe(
      404,
    );
  });

  test("a browser (with Origin) gets the download headers exposed by CORS", async () => {
    const res = await own({ origin: "https://app.example", range: "bytes=0-9" });
    expect(res.status).toBe(206);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const h of ["content-range", "content-disposition", "etag", "accept-ranges"])
      expect(exposed).toContain(h);
    expect(await bytes(res)).toEqual(data.subarray(0, 10));
  });

  test("names with quotes, semicolons, 中文文件名.txt and emoji survive into Content-Disposition", async () => {
    for (const name of [
      'a "quoted" name.txt',
      "semi;colon; filename=x.txt",
      "中文文件名.txt",
      "emoji 🎉🚀.bin",
    ]) {
      const f = await upload(alice, name, randomBytes(100));
      const res = await get(`/download/v1/files/${f.id}`, { authorization: `Bearer ${alice.accessToken}` });
      expect(res.status).toBe(200);
      expect(filenameOf(res.headers.get("content-disposition") ?? "")).toBe(name);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      await res.arrayBuffer();
    }
  });

  test("a signed link works without a login and fails one second after expiry", async () => {
    const link = await rpc("CreateDownloadUrl", { fileId: file.id, ttlSeconds: 2 });
    expect(link.status).toBe(200);
    const url = link.json.url as string;
    expect(url).not.toContain(alice.accessToken);
    const res = await get(url, { range: "bytes=0-99" });
    expect([res.status, ...(await bytes(res)).subarray(0, 3)]).toEqual([206, ...data.subarray(0, 3)]);
    const expiresAt = Date.parse(link.json.expiresAt as string);
    await Bun.sleep(Math.max(0, expiresAt + 1000 - Date.now()));
    const late = await get(url);
    expect(late.status).toBe(403);
    expect(((await late.json()) as { message: string }).message).toContain("expired");
  });

  test("a signed link fails with any one character changed, and after revocation", async () => {
    const url = (await rpc("CreateDownloadUrl", { fileId: file.id })).json.url as string;
    expect((await get(url, {}, "HEAD")).status).toBe(200);
    const from = url.indexOf("/links/") + "/links/".length;
    for (let i = from; i < url.length; i++) {
      const changed = url.slice(0, i) + (url[i] === "A" ? "B" : "A") + url.slice(i + 1);
      const res = await get(changed);
      await res.arrayBuffer();
      if (res.status !== 403) throw new Error(`changing position ${i} of ${url} answered ${res.status}`);
    }
    expect((await rpc("RevokeDownloadUrls", { fileId: file.id })).status).toBe(200);
    const revoked = await get(url);
    expect(revoked.status).toBe(403);
    expect(((await revoked.json()) as { message: string }).message).toContain("revoked");
    const again = await get((await rpc("CreateDownloadUrl", { fileId: file.id })).json.url as string);
    expect([again.status, (await bytes(again)).length]).toEqual([200, data.length]);
  });

  test("another user cannot download, link or revoke the file: it looks not found", async () => {
    const byId = await get(`/download/v1/files/${file.id}`, { authorization: `Bearer ${bob.accessToken}` });
    expect(byId.status).toBe(404);
    const byHash = await get(`/download/v1/by-sha1/${sha1}`, { authorization: `Bearer ${bob.accessToken}` });
    expect(byHash.status).toBe(404);
    expect((await rpc("CreateDownloadUrl", { fileId: file.id }, bob)).json.code).toBe("not_found");
    expect((await rpc("CreateDownloadUrl", { sha1 }, bob)).json.code).toBe("not_found");
    expect((await rpc("RevokeDownloadUrls", { fileId: file.id }, bob)).json.code).toBe("not_found");
    expect((await get(`/download/v1/files/${file.id}`)).status).toBe(401);
    const legacy = await get(
      `/file/download?${new URLSearchParams({ username: bob.username, token: bob.accessToken, filehash: sha1 })}`,
    );
    expect(legacy.status).toBe(404);
    const legacyUrl = await fetch(`${stack.gatewayUrl}/file/downloadurl`, {
      method: "POST",
      body: new URLSearchParams({ username: bob.username, token: bob.accessToken, filehash: sha1 }),
    });
    expect(legacyUrl.status).toBe(404);
  });
});

describe(`legacy download routes (${MODE})`, () => {
  test("POST /file/downloadurl answers a plain-text link that downloads without a login", async () => {
    const res = await fetch(
      `${stack.gatewayUrl}/file/downloadurl?username=${alice.username}&token=${alice.accessToken}`,
      {
        method: "POST",
        body: new URLSearchParams({ filehash: sha1 }),
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const url = await res.text();
    expect(url.startsWith(`${stack.gatewayUrl}/download/v1/links/`)).toBe(true);
    expect(url).not.toContain(alice.accessToken);
    const got = await fetch(url);
    expect(sha256(await bytes(got))).toBe(sha256(data));
    expect(filenameOf(got.headers.get("content-disposition") ?? "")).toBe("data.bin");
  });

  test("GET /file/download: the caller's file by SHA-1, ranges, the user's name; a bad token is 10005", async () => {
    const q = (token: string) => new URLSearchParams({ username: alice.username, token, filehash: sha1 });
    const whole = await get(`/file/download?${q(alice.accessToken)}`);
    expect(whole.status).toBe(200);
    expect(filenameOf(whole.headers.get("content-disposition") ?? "")).toBe("data.bin");
    expect(sha256(await bytes(whole))).toBe(sha256(data));
    const part = await get(`/file/download?${q(alice.accessToken)}`, { range: "bytes=-10" });
    expect([part.status, ...(await bytes(part))]).toEqual([206, ...data.subarray(-10)]);
    const bad = await get(`/file/download?${q(`${alice.accessToken}x`)}`);
    expect(((await bad.json()) as { code: number }).code).toBe(10005);
    const unknown = await get(
      `/file/download?${new URLSearchParams({ username: alice.username, token: alice.accessToken, filehash: "0".repeat(40) })}`,
    );
    expect(unknown.status).toBe(404);
  });
});
