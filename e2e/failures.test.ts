// Errors a client can act on, end to end: the server's storage full (BLOB_DIR on a 2 MiB tmpfs: a real
// ENOSPC) answers 507 "the server's storage is full" in both modes; in services mode, MariaDB going away
// under meta (a TCP proxy between them, closed) and meta itself killed answer 503 with a retry hint and the
// request id, naming no internal address.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";
import {
  connectCall,
  eventually,
  FILES,
  freePorts,
  MiB,
  MODE,
  type Stack,
  servicePid,
  signedInUser,
  startStack,
} from "./harness.ts";

/** The answer and the request id it was given under. */
async function answer(res: Response) {
  const text = await res.text();
  return { status: res.status, rid: res.headers.get("x-request-id"), text, json: JSON.parse(text) };
}

function upload(stack: Stack, token: string, name: string, body: BodyInit) {
  return fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body,
  });
}

const files = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();

// Mounting needs root (CI runs the suites as root).
const blobDir = mkdtempSync(join(tmpdir(), "filestore-e2e-full-"));
const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", blobDir]).exitCode === 0;
if (!mounted)
  console.warn(`cannot mount a tmpfs at ${blobDir} (not root?): the storage-full suite is skipped`);

describe.skipIf(!mounted)(`the server's storage is full (${MODE})`, () => {
  let stack: Stack;
  let user: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    stack = await startStack({ BLOB_DIR: blobDir });
    user = await signedInUser(stack.gatewayUrl);
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    Bun.spawnSync(["umount", "-l", blobDir]);
    rmSync(blobDir, { recursive: true, force: true });
  });

  test("an upload too large for the disk: 507 with the request id, nothing left behind", async () => {
    const before = files(blobDir);
    const r = await answer(await upload(stack, user.accessToken, "big.bin", new Uint8Array(3 * MiB)));
    expect(r.status).toBe(507);
    expect(r.json).toEqual({
      code: "resource_exhausted",
      message: `the server's storage is full (request id ${r.rid})`,
      // The reason, as on RPC errors: a google.rpc.ErrorInfo (core/reasons.ts).
      details: [
        {
          type: "google.rpc.ErrorInfo",
          value: expect.any(String),
          debug: { reason: "STORAGE_FULL", domain: "filestore" },
        },
      ],
    });
    expect(files(blobDir)).toEqual(before);
    const list = await connectCall(
      stack.gatewayUrl,
      `${FILES}/ListFiles`,
      {},
      {
        authorization: `Bearer ${user.accessToken}`,
      },
    );
    expect(list.json.files ?? []).toEqual([]);
    // The legacy upload says it with its server-failure code.
    const form = new FormData();
    form.set("file", new File([new Uint8Array(3 * MiB)], "big.bin"));
    const legacy = await fetch(
      `${stack.gatewayUrl}/file/upload?username=${user.username}&token=${user.accessToken}`,
      { method: "POST", body: form },
    );
    expect(await legacy.json()).toEqual({
      code: -6,
      msg: `the server's storage is full (request id ${legacy.headers.get("x-request-id")})`,
    });
    // What the failed uploads wrote is free again: the refused form's partial bytes go as its request
    // ends, which on a loaded machine may be a moment after the answer.
    let small = await upload(stack, user.accessToken, "small.bin", new Uint8Array(64 * 1024));
    for (let i = 0; i < 50 && small.status === 507; i++) {
      await Bun.sleep(100);
      small = await upload(stack, user.accessToken, "small.bin", new Uint8Array(64 * 1024));
    }
    expect(small.status).toBe(201);
  });
});

/** A TCP proxy to `target` that can be closed (every connection cut, new ones refused) and opened again. */
async function tcpProxy(target: URL, port: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 3306), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server?.close(() => resolve());
    });
  await open();
  return { open, close };
}

const mysqlUrl = process.env.TEST_MYSQL_URL;

describe.skipIf(MODE !== "services" || !mysqlUrl)("dependencies down (services mode)", () => {
  let stack: Stack;
  let user: Awaited<ReturnType<typeof signedInUser>>;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let dropDatabase: () => Promise<void>;
  const auth = () => ({ authorization: `Bearer ${user.accessToken}` });

  beforeAll(async () => {
    // Meta reaches MariaDB through a proxy the test can cut.
    const base = new URL(mysqlUrl as string);
    const name = `filestore_e2ef${Date.now().toString(36)}`;
    const admin = await createConnection(mysqlUrl as string);
    await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    dropDatabase = async () => {
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    };
    const [port] = (await freePorts(1)) as [number];
    proxy = await tcpProxy(base, port);
    const viaProxy = new URL(base);
    viaProxy.host = `127.0.0.1:${port}`;
    viaProxy.pathname = `/${name}`;
    stack = await startStack({ DATABASE_URL: viaProxy.toString() });
    user = await signedInUser(stack.gatewayUrl);
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
    await dropDatabase?.();
  });

  /** An RPC (ListFiles) and an upload both answer 503 "<what> is unavailable, retry in a moment", each with
   * its request id, the upload with a Retry-After. */
  async function expectUnavailable(what: string, uploadName: string) {
    const list = await answer(
      await fetch(`${stack.gatewayUrl}/${FILES}/ListFiles`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth() },
        body: "{}",
      }),
    );
    expect([list.status, list.json]).toEqual([
      503,
      {
        code: "unavailable",
        message: `${what} is unavailable, retry in a moment (request id ${list.rid})`,
      },
    ]);
    const put = await upload(stack, user.accessToken, uploadName, "hello");
    expect(put.headers.get("retry-after")).toBe("5");
    const r = await answer(put);
    expect([r.status, r.json.message]).toEqual([
      503,
      `${what} is unavailable, retry in a moment (request id ${r.rid})`,
    ]);
    return { list, r };
  }

  test("MariaDB going away: 503 'the database is unavailable, retry in a moment' with the request id; back when it is", async () => {
    await proxy.close();
    await expectUnavailable("the database", "a.txt");
    await proxy.open();
    expect(
      await eventually(async () => (await upload(stack, user.accessToken, "a.txt", "hi")).status === 201),
    ).toBe(true);
  });

  test("meta killed: RPCs and the data plane answer 503 naming the meta service, never its address", async () => {
    process.kill(servicePid(stack.runDir as string, "meta"), "SIGKILL");
    const { list, r } = await expectUnavailable("the meta service", "b.txt");
    expect(list.text).not.toContain("127.0.0.1");
    expect(r.text).not.toContain("127.0.0.1");
  });
});
