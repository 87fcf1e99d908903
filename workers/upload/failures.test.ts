// The upload data planes when the server cannot keep what it is sent: its storage full (a real ENOSPC from a
// small tmpfs as the blob store's root; SQLite at its max_page_count) or a dependency down (the database or
// the meta service refusing connections). Each answer says so (507 / 503 with Retry-After) with the request
// id, and nothing is left half-written: no temporary file, no blob, no row.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { sql } from "kysely";
import type { Identity } from "../../core/access-token.ts";
import { createLocalBlobStore } from "../lib/blobstore/local/index.ts";
import { type TestBlobStore, testBlobStores } from "../lib/blobstore/testing.ts";
import { httpTransport } from "../lib/clients.ts";
import { createMetaClient } from "../lib/meta-client.ts";
import { RpcHost } from "../lib/server.ts";
import { closedPort } from "../lib/testing.ts";
import { openDatabase } from "../meta/db/database.ts";
import { uploadModule } from "./service.ts";
import { createSession, listParts } from "./sessions.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";
import type { UploadWorkerDeps } from "./wire.ts";

const MiB = 1024 * 1024;
const local = testBlobStores().find((b) => b.backend === "local") as TestBlobStore;

/** Files under `dir`, recursively (what the blob store holds, temporary files included). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** The upload worker's data plane as a worker serves it (its request id in scope for the calls it makes). */
function dataPlane(deps: UploadWorkerDeps, who: Identity, interceptors: Interceptor[]) {
  const errors: unknown[] = [];
  const module = uploadModule(deps, { verify: async () => who }, (err) => errors.push(err));
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const host = new RpcHost([module], { interceptors, maxRpcBytes: MiB, trustedProxies: [], log });
  const send = (path: string, init: RequestInit & { headers?: Record<string, string> }) =>
    host.fetch(
      new Request(`http://upload.internal${path}`, {
        ...init,
        headers: { authorization: "Bearer t", ...init.headers },
      }),
    );
  return { send, errors };
}

async function expectAnswer(res: Response, status: number, message: string, rid: string) {
  expect([res.status, res.headers.get("x-request-id")]).toEqual([status, rid]);
  const body = (await res.json()) as { code: string; message: string };
  expect(body.message).toBe(`${message} (request id ${rid})`);
  return body;
}

// Mounting needs root (CI and this project's containers run tests as root).
const tmpfs = mkdtempSync(join(tmpdir(), "filestore-full-"));
const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", tmpfs]).exitCode === 0;
if (!mounted) console.warn(`cannot mount a tmpfs at ${tmpfs} (not root?): the ENOSPC tests are skipped`);

/** Writes `path` until the file system is full (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!mounted)("the blob store's disk is full (a 2 MiB tmpfs)", () => {
  let fx: UploadFixture;
  let who: Identity;
  beforeAll(async () => {
    const onTmpfs: TestBlobStore = {
      backend: "local",
      async open() {
        return {
          store: await createLocalBlobStore(tmpfs),
          snapshot: async () => filesUnder(tmpfs).sort(),
          close: async () => {},
        };
      },
    };
    fx = await openUploadFixture(onTmpfs);
    who = await fx.user("alice");
  });
  afterAll(async () => {
    await fx.close();
    // Lazily: the store's session file may still be open.
    Bun.spawnSync(["umount", "-l", tmpfs]);
    rmSync(tmpfs, { recursive: true, force: true });
  });

  test("a streamed upload answers 507, leaves no temporary file and no file; a small one fits after", async () => {
    const { send, errors } = dataPlane(fx.deps, who, fx.interceptors);
    const before = filesUnder(tmpfs);
    const res = await send("/upload/v1/files?name=big.bin", {
      method: "PUT",
      headers: { "x-request-id": "rid-full-1" },
      body: new Uint8Array(3 * MiB),
    });
    const body = await expectAnswer(res, 507, "the server's storage is full", "rid-full-1");
    expect(body.code).toBe("resource_exhausted");
    expect(String((errors[0] as { code?: string }).code)).toBe("ENOSPC");
    expect(filesUnder(tmpfs)).toEqual(before);
    expect(await fx.db.selectFrom("files").select("id").execute()).toEqual([]);
    // The space the failed upload took is free again.
    const small = await send("/upload/v1/files?name=small.bin", {
      method: "PUT",
      body: new Uint8Array(64 * 1024),
    });
    expect(small.status).toBe(201);
  });

  test("the legacy form, a multipart part and a tus PATCH answer 507 too; the part is not recorded", async () => {
    const { send } = dataPlane(fx.deps, who, fx.interceptors);
    const before = filesUnder(tmpfs);
    const form = new FormData();
    form.set("file", new File([new Uint8Array(3 * MiB)], "big.bin"));
    await expectAnswer(
      await send("/upload/v1/form?sha1=now", {
        method: "POST",
        body: form,
        headers: { "x-request-id": "rid-f" },
      }),
      507,
      "the server's storage is full",
      "rid-f",
    );

    // The refused form's partial bytes are removed as its request ends, which on a loaded machine may be
    // a moment after the answer: the sessions below are sized against the space that frees.
    for (let i = 0; i < 100 && filesUnder(tmpfs).length > before.length; i++) await Bun.sleep(50);
    expect(filesUnder(tmpfs)).toEqual(before);

    // A session and a tus upload that fit when they are opened (the free-space check at creation lets
    // them in); then something else fills the disk, and their bytes meet ENOSPC: 507, nothing recorded.
    const size = 256 * 1024;
    const session = await createSession(fx.deps, who, {
      name: "parts.bin",
      parentId: "",
      size: BigInt(size),
    });
    const tusHeaders = { "tus-resumable": "1.0.0", "x-request-id": "rid-t" };
    const created = await send("/upload/v1/tus/", {
      method: "POST",
      headers: {
        ...tusHeaders,
        "upload-length": String(size),
        "upload-metadata": `filename ${btoa("tus.bin")}`,
      },
    });
    expect(created.status).toBe(201);
    fillDisk(join(tmpfs, "filler"));
    let refused: { n: number; res: Response } | undefined;
    for (let n = 1; n <= session.partCount && !refused; n++) {
      const res = await send(`/upload/v1/sessions/${session.id}/parts/${n}`, {
        method: "PUT",
        headers: { "x-request-id": "rid-p" },
        body: new Uint8Array(Math.min(Number(session.partSize), size - (n - 1) * Number(session.partSize))),
      });
      if (res.status !== 200) refused = { n, res };
    }
    expect(refused).toBeDefined();
    await expectAnswer(refused?.res as Response, 507, "the server's storage is full", "rid-p");
    const listed = (await listParts(fx.deps, who, session.id)).parts.map((p) => p.partNumber);
    expect(listed).not.toContain(refused?.n);

    const patch = await send(created.headers.get("location") as string, {
      method: "PATCH",
      headers: { ...tusHeaders, "content-type": "application/offset+octet-stream", "upload-offset": "0" },
      body: new Uint8Array(size),
    });
    expect([patch.status, patch.headers.get("tus-resumable"), await patch.text()]).toEqual([
      507,
      "1.0.0",
      "the server's storage is full (request id rid-t)\n",
    ]);
  });
});

describe("the database is full (SQLite at its max_page_count)", () => {
  test("uploads answer 507 once the database is full; the refused upload leaves no blob behind", async () => {
    const fx = await openUploadFixture(local);
    try {
      const who = await fx.user("bob");
      const { send } = dataPlane(fx.deps, who, fx.interceptors);
      // Room for a few more pages: some uploads fit, then the database is full.
      const { rows } = await sql<{ page_count: number }>`PRAGMA page_count`.execute(fx.db);
      await sql.raw(`PRAGMA max_page_count = ${Number(rows[0]?.page_count) + 2}`).execute(fx.db);
      let res: Response | undefined;
      let stored = 0;
      for (let i = 0; i < 500; i++) {
        res = await send(`/upload/v1/files?name=f${i}.txt`, {
          method: "PUT",
          headers: { "x-request-id": `rid-db-${i}` },
          body: `content ${i}`,
        });
        if (res.status !== 201) break;
        stored++;
      }
      expect(stored).toBeGreaterThan(0);
      await expectAnswer(res as Response, 507, "the server's storage is full", `rid-db-${stored}`);
      // One blob per file stored before; none of the refused upload.
      expect((await fx.stored()).filter((x) => x.startsWith("blobs/"))).toHaveLength(stored);
    } finally {
      await fx.close();
    }
  });
});

describe("a dependency that cannot be reached", () => {
  test("the database refusing connections: 503 with Retry-After, nothing stored", async () => {
    const dead = {
      dialect: "mysql" as const,
      async open() {
        const db = openDatabase(`mysql://root@127.0.0.1:${closedPort()}/x`);
        return { db, drop: () => db.destroy() };
      },
    };
    const fx = await openUploadFixture(local, undefined, dead);
    try {
      const who = { userId: "00000000-0000-4000-8000-000000000001", username: "carol", exp: 0 };
      const { send } = dataPlane(fx.deps, who, fx.interceptors);
      const res = await send("/upload/v1/files?name=a.txt", {
        method: "PUT",
        headers: { "x-request-id": "rid-db-down" },
        body: "hello",
      });
      expect(res.headers.get("retry-after")).toBe("5");
      const body = await expectAnswer(
        res,
        503,
        "the database is unavailable, retry in a moment",
        "rid-db-down",
      );
      expect(body.code).toBe("unavailable");
      expect(await fx.stored()).toEqual([]);
    } finally {
      await fx.close();
    }
  });

  test("the meta service refusing connections: 503 naming it, never its address", async () => {
    const fx = await openUploadFixture(local);
    try {
      const who = await fx.user("dave");
      const meta = createMetaClient(httpTransport(`http://127.0.0.1:${closedPort()}`, fx.secret));
      const { send } = dataPlane({ ...fx.deps, meta }, who, fx.interceptors);
      const res = await send("/upload/v1/files?name=a.txt", {
        method: "PUT",
        headers: { "x-request-id": "rid-meta" },
        body: "hello",
      });
      expect(res.headers.get("retry-after")).toBe("5");
      await expectAnswer(res, 503, "the meta service is unavailable, retry in a moment", "rid-meta");
      expect(await fx.stored()).toEqual([]);
    } finally {
      await fx.close();
    }
  });
});

describe("a tus creation the server refuses for now", () => {
  let fx: UploadFixture;
  beforeAll(async () => {
    fx = await openUploadFixture(local);
  });
  afterAll(() => fx.close());

  test("answers 507 with the request id, as every 5xx of the data plane does", async () => {
    const who = await fx.user("carol");
    fx.deps.maxOpenSessions = 1;
    await createSession(fx.deps, who, { name: "open.bin", parentId: "", size: 10n });
    const { send } = dataPlane(fx.deps, who, fx.interceptors);
    const res = await send("/upload/v1/tus/", {
      method: "POST",
      headers: {
        "tus-resumable": "1.0.0",
        "x-request-id": "rid-tus-507",
        "upload-length": "10",
        "upload-metadata": `filename ${btoa("more.bin")}`,
      },
    });
    expect([res.status, res.headers.get("x-request-id")]).toEqual([507, "rid-tus-507"]);
    expect(await res.text()).toStartWith("you have 1 upload sessions open");
  });
});
