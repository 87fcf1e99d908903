// A `view` share link as a read-only WebDAV root (/public.php/webdav/, the share id as Basic user and the
// link's password as password), through the gateway in either mode: rclone's webdav backend copies the
// shared folder down whole; a wrong password is 401, writes are 403, Range works, a drop link is refused,
// and nothing outside the shared folder is reachable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectCall, randomBytes, run, type Stack, sha256 } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";
import { type DavUser, davUser, treeOf } from "./webdav-kit.ts";

const SHARES = "filestore.share.v1.ShareService";
let stack: Stack;
let user: DavUser;
let dir: string;
const files: Record<string, Uint8Array<ArrayBuffer>> = {
  "a b.txt": randomBytes(1000),
  "sub dir/ünï.bin": randomBytes(300_000),
  "sub dir/deeper/z.txt": randomBytes(10),
};

beforeAll(async () => {
  stack = await sharedStack();
  user = await davUser(stack.gatewayUrl, "public");
  dir = mkdtempSync(join(tmpdir(), "filestore-dav-public-"));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const davUrl = (path: string) =>
  `${stack.gatewayUrl}/dav/${path.split("/").map(encodeURIComponent).join("/")}`;
const mine = (method: string, path: string, body?: Uint8Array<ArrayBuffer>) =>
  fetch(davUrl(path), { method, headers: { authorization: user.basic, depth: "0" }, body });
const visitor = (id: string, password: string) =>
  `Basic ${Buffer.from(`${id}:${password}`).toString("base64")}`;

async function share(path: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await mine("PROPFIND", path);
  const fileId = /<oc:fileid>([^<]+)</.exec(await res.text())?.[1];
  const made = await connectCall(
    stack.gatewayUrl,
    `${SHARES}/CreateShare`,
    { targetId: fileId, ...extra },
    { authorization: `Bearer ${user.accessToken}` },
  );
  expect(made.status).toBe(200);
  return (made.json.share as { id: string }).id;
}

describe("a share link as a WebDAV root", () => {
  let id = "";
  beforeAll(async () => {
    for (const folder of ["shared", "shared/sub dir", "shared/sub dir/deeper", "private"])
      expect((await mine("MKCOL", folder)).status).toBe(201);
    for (const [name, data] of Object.entries(files))
      expect((await mine("PUT", `shared/${name}`, data)).status).toBe(201);
    expect((await mine("PUT", "private/secret.txt", randomBytes(5))).status).toBe(201);
    id = await share("shared", { password: "open sesame" });
  }, 60_000);

  test("rclone (webdav backend) copies the shared folder down, every byte", async () => {
    const obscured = (await run(["rclone", "obscure", "open sesame"])).stdout.trim();
    const remote = `:webdav,url='${stack.gatewayUrl}/public.php/webdav',vendor=other,user=${id},pass=${obscured}:`;
    const local = join(dir, "down");
    const r = await run(["rclone", "--config", "/dev/null", "--retries", "1", "copy", remote, local]);
    expect(`${r.stdout}\n${r.stderr}`).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const want = Object.fromEntries(Object.entries(files).map(([n, d]) => [n, sha256(d)]));
    expect(treeOf(local)).toEqual(want);
  }, 60_000);

  test("read-only, password checked, Range served, nothing outside the share", async () => {
    const auth = { authorization: visitor(id, "open sesame") };
    const base = `${stack.gatewayUrl}/public.php/webdav`;
    expect((await fetch(`${base}/`, { method: "PROPFIND", headers: { ...auth, depth: "1" } })).status).toBe(
      207,
    );
    const wrong = await fetch(`${base}/`, {
      method: "PROPFIND",
      headers: { authorization: visitor(id, "nope") },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("Basic");
    expect((await fetch(`${base}/`, { method: "PROPFIND" })).status).toBe(401);
    const ranged = await fetch(`${base}/a%20b.txt`, { headers: { ...auth, range: "bytes=10-19" } });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(
      (files["a b.txt"] as Uint8Array<ArrayBuffer>).subarray(10, 20),
    );
    for (const [method, path] of [
      ["PUT", "/new.txt"],
      ["DELETE", "/a%20b.txt"],
      ["MKCOL", "/folder"],
      ["MOVE", "/a%20b.txt"],
    ] as const)
      expect(
        (await fetch(`${base}${path}`, { method, headers: auth, body: method === "PUT" ? "x" : undefined }))
          .status,
      ).toBe(403);
    expect((await fetch(`${base}/private/secret.txt`, { headers: auth })).status).toBe(404);
    expect((await mine("GET", "shared/a b.txt")).status).toBe(200);
  }, 60_000);

  test("a shared file is a folder holding it; a drop link is refused", async () => {
    const fileId = await share("shared/a b.txt");
    const auth = { authorization: visitor(fileId, "") };
    const base = `${stack.gatewayUrl}/public.php/webdav`;
    const listing = await fetch(`${base}/`, { method: "PROPFIND", headers: { ...auth, depth: "1" } });
    expect(listing.status).toBe(207);
    expect(await listing.text()).toContain("<d:href>/public.php/webdav/a%20b.txt</d:href>");
    const got = await fetch(`${base}/a%20b.txt`, { headers: auth });
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(
      sha256(files["a b.txt"] as Uint8Array<ArrayBuffer>),
    );
    const drop = await share("shared/sub dir", { mode: "SHARE_MODE_DROP" });
    const refused = await fetch(`${base}/`, {
      method: "PROPFIND",
      headers: { authorization: visitor(drop, "") },
    });
    expect(refused.status).toBe(403);
  }, 60_000);
});
