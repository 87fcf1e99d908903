// Nextcloud chunked upload v2 through the gateway (either mode, FILESTORE_TEST_MODE), with plain fetch
// calls as a client sends them (Debian's rclone 1.60 predates rclone's use of it): MKCOL an upload folder,
// PUT numbered chunks with OC-Total-Length, MOVE .file to the destination. A re-sent chunk (resume), a
// missing chunk at MOVE (refused, nothing stored, the transfer kept), DELETE aborting (the quota
// reservation released), 507 up front beyond the quota, chunks of the wrong size, another user's folder.
// Services mode (two dav replicas here, which the gateway takes turns with, each also called directly): a
// transfer begun on one replica is continued on the other, across a restart of the first, and completed or
// aborted on either.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODE, randomBytes, restartService, type Stack, servicePid, sha256, startStack } from "./harness.ts";
import { type DavUser, davUser } from "./webdav-kit.ts";

const MiB = 1024 * 1024;
const QUOTA = 64 * MiB;
const CHUNK = 5 * MiB;

let stack: Stack;
let user: DavUser;

beforeAll(async () => {
  stack = await startStack({ DEFAULT_QUOTA_BYTES: String(QUOTA) }, { dav: 2 });
  user = await davUser(stack.gatewayUrl, "chunked");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const uploads = (transfer: string, rest = "", base = stack.gatewayUrl) =>
  `${base}/remote.php/dav/uploads/${user.username}/${transfer}${rest}`;
const filesUrl = (path: string, base = stack.gatewayUrl) =>
  `${base}/remote.php/dav/files/${user.username}/${path}`;

async function dav(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: Uint8Array<ArrayBuffer>,
) {
  const res = await fetch(url, { method, headers: { authorization: user.basic, ...headers }, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The caller's usage (FileService.GetUsage over Connect JSON). */
async function usage(): Promise<{ used: number; reserved: number }> {
  const res = await fetch(`${stack.gatewayUrl}/filestore.file.v1.FileService/GetUsage`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${user.accessToken}` },
    body: "{}",
  });
  const j = (await res.json()) as { usedBytes?: string; reservedBytes?: string };
  return { used: Number(j.usedBytes ?? 0), reserved: Number(j.reservedBytes ?? 0) };
}

/** The chunks of `data`: CHUNK bytes each, the last smaller. */
const chunksOf = (data: Uint8Array<ArrayBuffer>) =>
  Array.from({ length: Math.ceil(data.length / CHUNK) }, (_, i) => data.subarray(i * CHUNK, (i + 1) * CHUNK));

describe("Nextcloud chunked upload v2", () => {
  test("MKCOL, chunks (one re-sent), MOVE .file: the file at its destination, its time kept", async () => {
    const data = randomBytes(12 * MiB + 123);
    const dest = filesUrl("Été%20%C3%A0%20la%20plage.bin");
    const total = { "oc-total-length": String(data.length), destination: dest };
    expect((await dav("MKCOL", uploads("t-happy"), { destination: dest })).status).toBe(201);
    expect((await dav("MKCOL", uploads("t-happy"), { destination: dest })).status).toBe(405);
    const chunks = chunksOf(data);
    expect(chunks.map((c) => c.length)).toEqual([CHUNK, CHUNK, 2 * MiB + 123]);
    for (const [i, c] of chunks.entries())
      expect((await dav("PUT", uploads("t-happy", `/${i + 1}`), total, c)).status).toBe(201);
    // The connection broke after chunk 2 (say): the client sends it again.
    expect((await dav("PUT", uploads("t-happy", "/2"), total, chunks[1])).status).toBe(201);
    const moved = await dav("MOVE", uploads("t-happy", "/.file"), { ...total, "x-oc-mtime": "1700000000" });
    expect(moved.status).toBe(201);
    expect(moved.headers.get("etag")).toBe(`"${sha256(data)}"`);
    expect(moved.headers.get("x-oc-mtime")).toBe("accepted");
    const got = await fetch(dest, { headers: { authorization: user.basic } });
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(data));
    const props = await dav("PROPFIND", dest, { depth: "0" });
    expect(props.text).toContain(`<d:getlastmodified>${new Date(1_700_000_000_000).toUTCString()}<`);
    // The transfer is over: its folder is gone.
    expect((await dav("PUT", uploads("t-happy", "/1"), total, chunks[0])).status).toBe(404);
    expect((await usage()).reserved).toBe(0);
  }, 60_000);

  test("a missing chunk at MOVE is refused and nothing is stored; sending it then completes", async () => {
    const data = randomBytes(11 * MiB);
    const dest = filesUrl("gap.bin");
    const total = { "oc-total-length": String(data.length), destination: dest };
    expect((await dav("MKCOL", uploads("t-gap"), { destination: dest })).status).toBe(201);
    const chunks = chunksOf(data);
    expect((await dav("PUT", uploads("t-gap", "/1"), total, chunks[0])).status).toBe(201);
    expect((await dav("PUT", uploads("t-gap", "/3"), total, chunks[2])).status).toBe(201);
    const early = await dav("MOVE", uploads("t-gap", "/.file"), total);
    expect(early.status).toBe(400);
    expect(early.text).toContain("chunks missing: 2");
    expect((await dav("GET", dest)).status).toBe(404);
    expect((await dav("PUT", uploads("t-gap", "/2"), total, chunks[1])).status).toBe(201);
    expect((await dav("MOVE", uploads("t-gap", "/.file"), total)).status).toBe(201);
    const got = await fetch(dest, { headers: { authorization: user.basic } });
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(data));
  }, 60_000);

  test("DELETE of the upload folder aborts: the reservation goes, later chunks find no folder", async () => {
    const data = randomBytes(10 * MiB);
    const dest = filesUrl("aborted.bin");
    const total = { "oc-total-length": String(data.length), destination: dest };
    expect((await dav("MKCOL", uploads("t-abort"), { destination: dest })).status).toBe(201);
    expect((await dav("PUT", uploads("t-abort", "/1"), total, data.subarray(0, CHUNK))).status).toBe(201);
    expect((await usage()).reserved).toBe(data.length);
    expect((await dav("DELETE", uploads("t-abort"), { destination: dest })).status).toBe(204);
    expect((await usage()).reserved).toBe(0);
    expect((await dav("PUT", uploads("t-abort", "/2"), total, data.subarray(CHUNK))).status).toBe(404);
    expect((await dav("MOVE", uploads("t-abort", "/.file"), total)).status).toBe(404);
    expect((await dav("GET", dest)).status).toBe(404);
  }, 60_000);

  test("beyond the quota: 507 at MKCOL with OC-Total-Length, and at the first chunk without it", async () => {
    const big = String(QUOTA + 1);
    const dest = filesUrl("huge.bin");
    const mk = await dav("MKCOL", uploads("t-huge"), { destination: dest, "oc-total-length": big });
    expect(mk.status).toBe(507);
    expect(mk.text).toContain("quota-not-exceeded");
    expect((await dav("MKCOL", uploads("t-huge2"), { destination: dest })).status).toBe(201);
    const put = await dav(
      "PUT",
      uploads("t-huge2", "/1"),
      { destination: dest, "oc-total-length": big },
      randomBytes(CHUNK),
    );
    expect(put.status).toBe(507);
    expect((await usage()).reserved).toBe(0);
  }, 60_000);

  test("bad chunks: a wrong size, a name that is no number, no total; another user's folder", async () => {
    const dest = filesUrl("bad.bin");
    const total = { "oc-total-length": String(12 * MiB), destination: dest };
    expect((await dav("MKCOL", uploads("t-bad"), { destination: dest })).status).toBe(201);
    expect((await dav("PUT", uploads("t-bad", "/1"), total, randomBytes(CHUNK))).status).toBe(201);
    const wrong = await dav("PUT", uploads("t-bad", "/2"), total, randomBytes(CHUNK - 1));
    expect(wrong.status).toBe(400);
    expect((await dav("PUT", uploads("t-bad", "/abc"), total, randomBytes(10))).status).toBe(400);
    expect((await dav("PUT", uploads("t-bad", "/4"), total, randomBytes(10))).status).toBe(400);
    expect((await dav("MKCOL", uploads("t-nolen"), { destination: dest })).status).toBe(201);
    expect((await dav("PUT", uploads("t-nolen", "/1"), { destination: dest }, randomBytes(10))).status).toBe(
      400,
    );
    const other = await davUser(stack.gatewayUrl, "other");
    const theirs = `${stack.gatewayUrl}/remote.php/dav/uploads/${other.username}/t-bad`;
    expect((await dav("MKCOL", theirs, { destination: dest })).status).toBe(403);
    expect((await dav("DELETE", uploads("t-bad"))).status).toBe(204);
    expect((await dav("DELETE", uploads("t-nolen"))).status).toBe(204);
    expect((await usage()).reserved).toBe(0);
  }, 60_000);

  test.skipIf(MODE !== "services")(
    "across replicas: begun on one, continued on the other and after a restart, completed or aborted on either",
    async () => {
      const svc = stack.services as NonNullable<Stack["services"]>;
      const [a, b] = (svc.env.DAV_PORTS ?? "").split(",").map((p) => `http://127.0.0.1:${p}`);
      if (!a || !b) throw new Error("this suite starts two dav replicas");
      const data = randomBytes(12 * MiB + 7);
      const chunks = chunksOf(data);
      const total = (base: string) => ({
        "oc-total-length": String(data.length),
        destination: filesUrl("replicas.bin", base),
      });
      expect((await dav("MKCOL", uploads("t-span", "", a), total(a))).status).toBe(201);
      expect((await dav("MKCOL", uploads("t-span", "", b), total(b))).status).toBe(405);
      expect((await dav("PUT", uploads("t-span", "/1", a), total(a), chunks[0])).status).toBe(201);
      expect((await dav("PUT", uploads("t-span", "/2", b), total(b), chunks[1])).status).toBe(201);
      // Replica a dies and comes back with nothing in memory: the transfer is still there.
      const pid = servicePid(svc.runDir, "dav-1");
      process.kill(pid, "SIGKILL");
      while (await Bun.file(`/proc/${pid}/status`).exists()) await Bun.sleep(20);
      await restartService(stack, "dav-1");
      expect((await dav("PUT", uploads("t-span", "/3", a), total(a), chunks[2])).status).toBe(201);
      const moved = await dav("MOVE", uploads("t-span", "/.file", b), total(b));
      expect(moved.status).toBe(201);
      expect(moved.headers.get("etag")).toBe(`"${sha256(data)}"`);
      const got = await fetch(filesUrl("replicas.bin"), { headers: { authorization: user.basic } });
      expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(data));
      // Completed on b: a does not know it either.
      expect((await dav("PUT", uploads("t-span", "/1", a), total(a), chunks[0])).status).toBe(404);
      // Begun on b, aborted on a: the session goes with it.
      expect((await dav("MKCOL", uploads("t-drop", "", b), total(b))).status).toBe(201);
      expect((await dav("PUT", uploads("t-drop", "/1", b), total(b), chunks[0])).status).toBe(201);
      expect((await usage()).reserved).toBe(data.length);
      expect((await dav("DELETE", uploads("t-drop", "", a))).status).toBe(204);
      expect((await usage()).reserved).toBe(0);
      expect((await dav("PUT", uploads("t-drop", "/2", b), total(b), chunks[1])).status).toBe(404);
    },
    120_000,
  );
});
