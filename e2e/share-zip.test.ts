// A shared folder's "download all as ZIP" and the safety headers of shared content, through the gateway in
// either mode (FILESTORE_TEST_MODE): the ZIP URL minted by CreateShareDownloadUrl on a folder opens with
// Python's zipfile and holds the tree, counts as one download (the limit then refuses), and stops once the
// link is revoked; an uploaded .html and .svg fetched through a share's URLs (download and preview) come
// with nosniff, a sandboxing CSP, never as text/html, and the SVG only ever as an attachment.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkZip } from "../workers/download/zip-check.ts";
import { connectCall, FILES, MODE, type Stack, signedInUser } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

const SHARES = "filestore.share.v1.ShareService";
const dir = mkdtempSync(join(tmpdir(), "e2e-share-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let stack: Stack;
beforeAll(async () => {
  stack = await sharedStack();
}, 90_000);
afterAll(() => stack?.stop(), 60_000);

type User = Awaited<ReturnType<typeof signedInUser>>;
const bearer = (u: User) => ({ authorization: `Bearer ${u.accessToken}` });
const call = (method: string, body: unknown, u?: User) =>
  connectCall(stack.gatewayUrl, `${SHARES}/${method}`, body, u ? bearer(u) : {});

describe(`shared folder ZIPs and shared content headers (${MODE})`, () => {
  let alice: User;
  const upload = async (name: string, body: string, parentId = "") => {
    const q = `name=${encodeURIComponent(name)}&parent_id=${parentId}`;
    const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?${q}`, {
      method: "PUT",
      headers: bearer(alice),
      body,
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { file: { id: string } }).file.id;
  };
  const folder = async (name: string, parentId = "") =>
    (
      (await connectCall(stack.gatewayUrl, `${FILES}/CreateFolder`, { name, parentId }, bearer(alice))).json
        .folder as { id: string }
    ).id;
  const shareOf = async (targetId: string, options: Record<string, unknown> = {}) => {
    const created = await call("CreateShare", { targetId, ...options }, alice);
    expect(created.status).toBe(200);
    const id = (created.json.share as { id: string }).id;
    const opened = await call("OpenShare", { id });
    return { id, token: opened.json.shareToken as string };
  };
  const mint = (shareToken: string, fileId = "", inline = false) =>
    call("CreateShareDownloadUrl", { shareToken, fileId, inline });
  const get = (url: string) => fetch(new URL(url, stack.gatewayUrl));

  beforeAll(async () => {
    alice = await signedInUser(stack.gatewayUrl);
  }, 60_000);

  test("download all as ZIP: a valid archive of the tree, one download, refused once revoked", async () => {
    const top = await folder("Trip ✓");
    const sub = await folder("day 1", top);
    await upload("readme.txt", "hello", top);
    await upload("photo.bin", "x".repeat(70_000), sub);
    const { id, token } = await shareOf(top, { maxDownloads: "2" });
    const minted = await mint(token);
    expect(minted.status).toBe(200);
    const url = minted.json.url as string;
    expect(url).toContain("/download/v1/zip/");
    expect(minted.json.downloadsLeft).toBe("1");
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const path = join(dir, "trip.zip");
    await Bun.write(path, res);
    const members = await checkZip(path);
    expect(members.map((m) => [m.name, m.size])).toEqual([
      ["readme.txt", 5],
      ["day 1/", 0],
      ["day 1/photo.bin", 70_000],
    ]);
    // Ranges and repeats of the same URL are free: one more mint is left, then none.
    expect((await fetch(new URL(url, stack.gatewayUrl), { headers: { range: "bytes=0-9" } })).ok).toBe(true);
    expect((await mint(token, sub)).status).toBe(200);
    const limited = await mint(token);
    expect(limited.status).toBe(429);
    expect(JSON.stringify(limited.json)).toContain("SHARE_LIMIT_REACHED");
    expect((await call("RevokeShare", { id }, alice)).status).toBe(200);
    const refused = await get(url);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("revoked");
  }, 60_000);

  test("shared .html and .svg: nosniff, a sandboxing CSP, never text/html, SVG never inline", async () => {
    const payload = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    for (const name of ["page.html", "image.svg"]) {
      const { token } = await shareOf(await upload(name, payload));
      for (const inline of [false, true]) {
        const res = await get((await mint(token, "", inline)).json.url as string);
        expect(res.status).toBe(200);
        const h = res.headers;
        expect(h.get("x-content-type-options")).toBe("nosniff");
        expect(h.get("content-security-policy")).toContain("sandbox");
        expect(h.get("content-security-policy")).toContain("default-src 'none'");
        expect(h.get("content-type")).not.toContain("html");
        const attachment = !inline || name.endsWith(".svg");
        expect(h.get("content-disposition")).toStartWith(attachment ? "attachment" : "inline");
        if (name.endsWith(".html")) expect(h.get("content-type")).toStartWith("text/plain");
        await res.arrayBuffer();
      }
    }
  }, 60_000);
});
