// tus 1.0 with the real tus-js-client: chunked, interrupted and resumed, checksums, termination.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as tus from "tus-js-client";
import { eventually, legacyFastUpload, randomBytes, type Stack, signedInUser } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;
beforeAll(async () => {
  stack = await sharedStack();
  user = await signedInUser(stack.gatewayUrl);
}, 60_000);
afterAll(() => stack?.stop());

const MiB = 1024 * 1024;
const endpoint = () => `${stack.gatewayUrl}/upload/v1/tus/`;
const auth = () => ({ Authorization: `Bearer ${user.accessToken}` });
const sha256b64 = (b: Uint8Array) =>
  Buffer.from(new Bun.CryptoHasher("sha256").update(b).digest()).toString("base64");

const randomBuffer = (n: number) => Buffer.from(randomBytes(n).buffer);

/**
 * The user holds content with this SHA-1 (the legacy fast upload hits only then), once its SHA-1 is known:
 * it is computed in the background after a modern upload, so a hit is waited for a little.
 */
async function holds(data: Uint8Array, wait = true): Promise<boolean> {
  const hit = async () => (await legacyFastUpload(stack.gatewayUrl, user, data)) === 0;
  return wait ? eventually(hit) : hit();
}

function run(upload: tus.Upload): Promise<void> {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = () => resolve();
    upload.options.onError = (err) => reject(err);
    upload.start();
  });
}

describe(`tus 1.0 (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("tus-js-client uploads in chunks that do not line up with the parts", async () => {
    const data = randomBuffer(12 * MiB + 321);
    const upload = new tus.Upload(data, {
      endpoint: endpoint(),
      headers: auth(),
      chunkSize: 3 * MiB,
      metadata: { filename: "chunked 🎞.bin", filetype: "application/octet-stream" },
      retryDelays: [],
    });
    await run(upload);
    expect(upload.url).toContain("/upload/v1/tus/");
    expect(await holds(data)).toBe(true);
  });

  test("an interrupted upload resumes from the offset the server reports", async () => {
    const data = randomBuffer(16 * MiB);
    const h = { ...auth(), "Tus-Resumable": "1.0.0" };
    const created = await fetch(endpoint(), {
      method: "POST",
      headers: {
        ...h,
        "Upload-Length": String(data.length),
        "Upload-Metadata": `filename ${btoa("resumed.bin")}`,
      },
    });
    const url = new URL(created.headers.get("location") ?? "", stack.gatewayUrl).toString();
    // The connection breaks after 8 MiB of the body.
    const abort = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= 8 * MiB) {
          await Bun.sleep(300); // let the server store what it got
          abort.abort();
          return;
        }
        c.enqueue(data.subarray(sent, sent + MiB));
        sent += MiB;
      },
    });
    await fetch(url, {
      method: "PATCH",
      headers: { ...h, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" },
      body,
      signal: abort.signal,
      duplex: "half",
    } as RequestInit).catch(() => undefined);
    // The server stores what it received once it sees the break; on a loaded machine that takes a while.
    let head = new Response();
    const stored = await eventually(async () => {
      head = await fetch(url, { method: "HEAD", headers: h });
      return head.status !== 200 || Number(head.headers.get("upload-offset")) > 0;
    });
    const offset = Number(head.headers.get("upload-offset"));
    expect(head.status).toBe(200);
    expect(stored).toBe(true);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(data.length);
    expect(await holds(data, false)).toBe(false);
    // tus-js-client picks the upload up where the server says it stands.
    const resumed = new tus.Upload(data, {
      endpoint: endpoint(),
      uploadUrl: url,
      headers: auth(),
      retryDelays: [],
    });
    await run(resumed);
    expect(await holds(data)).toBe(true);
  });

  test("checksums: a wrong Upload-Checksum is 460 and stores nothing; the right one passes", async () => {
    const data = randomBuffer(100_000);
    const created = await fetch(endpoint(), {
      method: "POST",
      headers: {
        ...auth(),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": String(data.length),
        "Upload-Metadata": `filename ${Buffer.from("sum.bin").toString("base64")}`,
      },
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get("location") ?? "", stack.gatewayUrl).toString();
    const patch = (checksum: string) =>
      fetch(url, {
        method: "PATCH",
        headers: {
          ...auth(),
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": "0",
          "Content-Type": "application/offset+octet-stream",
          "Upload-Checksum": checksum,
        },
        body: new Uint8Array(data),
      });
    expect((await patch(`sha256 ${sha256b64(randomBytes(10))}`)).status).toBe(460);
    expect((await patch("md5 AAAA")).status).toBe(400);
    const head = await fetch(url, { method: "HEAD", headers: { ...auth(), "Tus-Resumable": "1.0.0" } });
    expect(head.headers.get("upload-offset")).toBe("0");
    const ok = await patch(`sha256 ${sha256b64(data)}`);
    expect([ok.status, ok.headers.get("upload-offset")]).toEqual([204, String(data.length)]);
    expect(await holds(data)).toBe(true);
  });

  test("protocol errors, termination, and other users' uploads", async () => {
    const h = { ...auth(), "Tus-Resumable": "1.0.0" };
    const options = await fetch(endpoint(), { method: "OPTIONS" });
    expect(options.headers.get("tus-extension")).toBe("creation,termination,checksum");
    expect((await fetch(endpoint(), { method: "POST", headers: auth() })).status).toBe(412);
    expect((await fetch(endpoint(), { method: "POST", headers: h })).status).toBe(400); // no Upload-Length
    const created = await fetch(endpoint(), {
      method: "POST",
      headers: { ...h, "Upload-Length": "10", "Upload-Metadata": `filename ${btoa("t.bin")}` },
    });
    const url = new URL(created.headers.get("location") ?? "", stack.gatewayUrl).toString();
    const wrongOffset = await fetch(url, {
      method: "PATCH",
      headers: { ...h, "Upload-Offset": "5", "Content-Type": "application/offset+octet-stream" },
      body: "12345",
    });
    expect(wrongOffset.status).toBe(409);
    const mallory = await signedInUser(stack.gatewayUrl);
    const theirs = await fetch(url, {
      method: "HEAD",
      headers: { Authorization: `Bearer ${mallory.accessToken}`, "Tus-Resumable": "1.0.0" },
    });
    expect(theirs.status).toBe(404);
    expect((await fetch(url, { method: "DELETE", headers: h })).status).toBe(204);
    expect((await fetch(url, { method: "HEAD", headers: h })).status).toBe(404);
    expect(
      (await fetch(`${endpoint()}..%2F..%2Fetc`, { method: "HEAD", headers: h })).status,
    ).toBeGreaterThanOrEqual(400);
  });
});
