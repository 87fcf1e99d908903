// COPY and MOVE with Overwrite: T through the gateway (either mode, FILESTORE_TEST_MODE), under a 1 MiB
// quota: a copy the quota refuses leaves the destination as it was (it is no longer trashed first); a
// successful overwrite trashes the old destination under its own name and leaves no temporary entry; a
// copy takes its source's dead properties along.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectCall, FILES, MiB, randomBytes, type Stack, startStack } from "./harness.ts";
import { type DavUser, davUser } from "./webdav-kit.ts";

let stack: Stack;
let user: DavUser;

beforeAll(async () => {
  stack = await startStack({ DEFAULT_QUOTA_BYTES: String(MiB) });
  user = await davUser(stack.gatewayUrl, "overwrite");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const dav = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.gatewayUrl}${path}`, {
    ...init,
    headers: { authorization: user.basic, ...(init.headers as Record<string, string>) },
  });
const to = (path: string) => ({ destination: `${stack.gatewayUrl}${path}`, overwrite: "T" });
const names = async (path: string) => {
  const r = await dav(path, { method: "PROPFIND", headers: { depth: "1" } });
  return [...(await r.text()).matchAll(/<d:displayname>([^<]*)</g)].map((m) => m[1]).sort();
};

describe("WebDAV overwrite", () => {
  test("a copy refused by the quota leaves the destination as it was", async () => {
    expect((await dav("/dav/big.bin", { method: "PUT", body: randomBytes(600 * 1024) })).status).toBe(201);
    expect((await dav("/dav/keep.txt", { method: "PUT", body: "precious" })).status).toBe(201);
    const copy = await dav("/dav/big.bin", { method: "COPY", headers: to("/dav/keep.txt") });
    expect(copy.status).toBe(507);
    expect(await (await dav("/dav/keep.txt")).text()).toBe("precious");
    expect(await names("/dav/")).toEqual(["big.bin", "keep.txt"]);
    expect((await dav("/dav/big.bin", { method: "DELETE" })).status).toBe(204);
  });

  test("MOVE over a file and over a folder: the old one is in the trash under its name", async () => {
    expect((await dav("/dav/m", { method: "MKCOL" })).status).toBe(201);
    expect((await dav("/dav/m/new.txt", { method: "PUT", body: "new" })).status).toBe(201);
    expect((await dav("/dav/m/old.txt", { method: "PUT", body: "old" })).status).toBe(201);
    expect((await dav("/dav/m/new.txt", { method: "MOVE", headers: to("/dav/m/old.txt") })).status).toBe(204);
    expect(await (await dav("/dav/m/old.txt")).text()).toBe("new");
    expect((await dav("/dav/m/dir", { method: "MKCOL" })).status).toBe(201);
    expect((await dav("/dav/m/old.txt", { method: "MOVE", headers: to("/dav/m/dir") })).status).toBe(204);
    expect(await names("/dav/m/")).toEqual(["dir", "m"]);
    expect(await (await dav("/dav/m/dir")).text()).toBe("new");
    const trash = await connectCall(
      stack.gatewayUrl,
      `${FILES}/ListTrash`,
      {},
      { authorization: `Bearer ${user.accessToken}` },
    );
    const trashed = (trash.json.files as { name: string }[]).map((f) => f.name).sort();
    // big.bin was deleted by the first test; no temporary name is left anywhere.
    expect(trashed).toEqual(["big.bin", "dir", "old.txt"]);
  });

  test("COPY takes the dead properties along", async () => {
    expect((await dav("/dav/p.txt", { method: "PUT", body: "p" })).status).toBe(201);
    const patch = await dav("/dav/p.txt", {
      method: "PROPPATCH",
      body: `<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><z:colour xmlns:z="urn:z">red</z:colour></d:prop></d:set></d:propertyupdate>`,
    });
    expect(patch.status).toBe(207);
    expect((await dav("/dav/p.txt", { method: "COPY", headers: to("/dav/q.txt") })).status).toBe(201);
    const pf = await dav("/dav/q.txt", {
      method: "PROPFIND",
      headers: { depth: "0" },
      body: `<d:propfind xmlns:d="DAV:"><d:prop><z:colour xmlns:z="urn:z"/></d:prop></d:propfind>`,
    });
    expect(await pf.text()).toMatch(/<x:colour xmlns:x="urn:z">red<\/x:colour>/);
  });
});
