// classifyFailure on errors as the real components raise them: the kernel, bun:sqlite, mysql2 against a
// closed port and against MariaDB (deadlock, lock wait, read-only, killed connection), the minio client
// against a closed port and against a server answering 503, Connect transports.
import { describe, expect, test } from "bun:test";
import { openSync, writeSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { sql } from "kysely";
import { createConnection } from "mysql2/promise";
import {
  classifyFailure,
  clientError,
  type Failure,
  isStorageFull,
  UnreachableError,
} from "../../core/failure.ts";
import { Reason, reasonError, reasonOf } from "../../core/reasons.ts";
import { type Db, openDatabase } from "../meta/db/database.ts";
import { BlobBackendUnavailableError } from "./blobstore/errors.ts";
import { createS3BlobStore } from "./blobstore/s3/index.ts";
import { createMetaClient } from "./meta-client.ts";
import { closedPort } from "./testing.ts";

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );

describe("storage full", () => {
  test("ENOSPC from the kernel (/dev/full)", () => {
    let err: unknown;
    try {
      writeSync(openSync("/dev/full", "w"), new Uint8Array(16));
    } catch (e) {
      err = e;
    }
    expect(classifyFailure(err)).toEqual({ kind: "storage-full" });
  });

  test("bun:sqlite's 'database or disk is full' (SQLITE_FULL), through Kysely", async () => {
    const db = openDatabase("sqlite::memory:");
    await sql`CREATE TABLE t (x BLOB)`.execute(db);
    await sql`PRAGMA max_page_count = 4`.execute(db);
    const err = await rejection(
      (async () => {
        for (let i = 0; i < 100; i++) await sql`INSERT INTO t VALUES (${new Uint8Array(4096)})`.execute(db);
      })(),
    );
    await db.destroy();
    expect(classifyFailure(err)).toEqual({ kind: "storage-full" });
  });

  test("the client error is ResourceExhausted with the reason and the request id", () => {
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    const e = clientError(full, "rid-7");
    expect([e.code, e.rawMessage, isStorageFull(e)]).toEqual([
      Code.ResourceExhausted,
      "the server's storage is full (request id rid-7)",
      true,
    ]);
    expect(reasonOf(e)).toBe(Reason.STORAGE_FULL);
    // A quota's ResourceExhausted is not the server's storage.
    expect(isStorageFull(new ConnectError("too large", Code.ResourceExhausted))).toBe(false);
  });
});

test("a deliberate error relayed from another service keeps its code and reason, not that answer's headers", () => {
  const relayed = reasonError("taken", Code.AlreadyExists, Reason.NAME_TAKEN);
  relayed.metadata.set("connection", "keep-alive");
  relayed.metadata.set("content-type", "application/json");
  const e = clientError(relayed, "rid-3");
  expect(e).toBe(relayed);
  expect([e.code, reasonOf(e), [...e.metadata.keys()]]).toEqual([
    Code.AlreadyExists,
    Reason.NAME_TAKEN,
    ["x-request-id"],
  ]);
});

describe("dependencies unavailable", () => {
  test("MariaDB/MySQL that refuses connections", async () => {
    const db = openDatabase(`mysql://root@127.0.0.1:${closedPort()}/x`);
    const err = await rejection(sql`SELECT 1`.execute(db));
    await db.destroy();
    expect(classifyFailure(err)).toEqual({
      kind: "unavailable",
      message: "the database is unavailable, retry in a moment",
    });
    const e = clientError(err, "rid-1");
    expect([e.code, e.rawMessage]).toEqual([
      Code.Unavailable,
      "the database is unavailable, retry in a moment (request id rid-1)",
    ]);
  });

  test("an S3 endpoint that refuses connections, and one that answers 503", async () => {
    const settings = { accessKey: "a", secretKey: "b", bucket: "filestore", createBucket: false };
    const dead = await createS3BlobStore({ ...settings, endPoint: `http://127.0.0.1:${closedPort()}` });
    const fileStorage: Failure = {
      kind: "unavailable",
      message: "the file storage is unavailable, retry in a moment",
    };
    const refused = await rejection(dead.read("blobs/00000000-0000-4000-8000-000000000000"));
    expect(classifyFailure(refused)).toEqual(fileStorage);
    const busy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(null, { status: 503 }),
    });
    try {
      const store = await createS3BlobStore({ ...settings, endPoint: `http://127.0.0.1:${busy.port}` });
      const failing = await rejection(store.read("blobs/00000000-0000-4000-8000-000000000000"));
      expect(classifyFailure(failing)).toEqual(fileStorage);
    } finally {
      await busy.stop(true);
    }
  });

  test("a Connect transport's refused connection; the service's own answers are left alone", async () => {
    const transport = createConnectTransport({
      baseUrl: `http://127.0.0.1:${closedPort()}`,
      httpVersion: "1.1",
    });
    const err = await rejection(createMetaClient(transport).touchUser({ id: "x" }));
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect(classifyFailure(err).kind).toBe("unavailable");
    expect(clientError(err, "r").rawMessage).not.toContain("127.0.0.1");
    // Made on purpose (here, or received from the service that answered): passed on by its code.
    expect(classifyFailure(new ConnectError("the meta service is busy", Code.Unavailable))).toEqual({
      kind: "other",
    });
    expect(classifyFailure(new UnreachableError("the meta service"))).toEqual({
      kind: "unavailable",
      message: "the meta service is unavailable, retry in a moment",
    });
  });

  test("content on a store this process was not configured with", () => {
    expect(classifyFailure(new BlobBackendUnavailableError("s3"))).toEqual({
      kind: "unavailable",
      message: "the file storage is unavailable, retry in a moment",
    });
  });

  test("message text alone means nothing: an error without a code is internal", () => {
    const err = new Error("connect ECONNREFUSED 10.0.0.5:3306; database or disk is full; ENOSPC");
    expect(classifyFailure(err)).toEqual({ kind: "other" });
    expect(clientError(err, "rid-2").rawMessage).toBe("internal error (request id rid-2)");
  });
});

const mysqlUrl = process.env.TEST_MYSQL_URL;

describe.skipIf(!mysqlUrl)("MariaDB refusing work for now", () => {
  /** A fresh database with a table t of two rows, and a Kysely over it; dropped after `work`. */
  async function withTable(work: (db: Db) => Promise<void>) {
    const name = `filestore_f${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const admin = await createConnection(mysqlUrl as string);
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(mysqlUrl as string);
    u.pathname = `/${name}`;
    const db = openDatabase(u.toString());
    try {
      await sql`CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB`.execute(db);
      await sql`INSERT INTO t VALUES (1, 0), (2, 0)`.execute(db);
      await work(db);
    } finally {
      await db.destroy();
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    }
  }
  const busy: Failure = { kind: "unavailable", message: "the database is busy, retry in a moment" };

  test("a deadlock (1213)", async () => {
    await withTable(async (db) => {
      let bothLocked!: () => void;
      const locked = new Promise<void>((r) => {
        let n = 0;
        bothLocked = () => ++n === 2 && r();
      });
      const crossing = (first: number, second: number) =>
        db.transaction().execute(async (trx) => {
          await sql`UPDATE t SET v = 1 WHERE id = ${first}`.execute(trx);
          bothLocked();
          await locked;
          await sql`UPDATE t SET v = 2 WHERE id = ${second}`.execute(trx);
        });
      const results = await Promise.allSettled([crossing(1, 2), crossing(2, 1)]);
      const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect((failed.reason as { errno?: number }).errno).toBe(1213);
      expect(classifyFailure(failed.reason)).toEqual(busy);
    });
  });

  test("a lock wait timeout (1205)", async () => {
    await withTable(async (db) => {
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let holding!: () => void;
      const holds = new Promise<void>((r) => {
        holding = r;
      });
      const holder = db.transaction().execute(async (trx) => {
        await sql`UPDATE t SET v = 1 WHERE id = 1`.execute(trx);
        holding();
        await held;
      });
      await holds;
      const err = await rejection(
        db.connection().execute(async (conn) => {
          await sql`SET SESSION innodb_lock_wait_timeout = 1`.execute(conn);
          await sql`UPDATE t SET v = 2 WHERE id = 1`.execute(conn);
        }),
      );
      release();
      await holder;
      expect((err as { errno?: number }).errno).toBe(1205);
      expect(classifyFailure(err)).toEqual(busy);
    });
  });

  test("a read-only transaction (1792) and a connection the server killed (a restart)", async () => {
    await withTable(async (db) => {
      const readOnly = await rejection(
        db.connection().execute(async (conn) => {
          await sql`SET SESSION TRANSACTION READ ONLY`.execute(conn);
          await sql`START TRANSACTION`.execute(conn);
          await sql`UPDATE t SET v = 3 WHERE id = 1`.execute(conn);
        }),
      );
      expect((readOnly as { errno?: number }).errno).toBe(1792);
      const down: Failure = {
        kind: "unavailable",
        message: "the database is unavailable, retry in a moment",
      };
      expect(classifyFailure(readOnly)).toEqual(down);
      const killed = await rejection(
        db.connection().execute(async (conn) => {
          const { rows } = await sql<{ id: number }>`SELECT CONNECTION_ID() AS id`.execute(conn);
          await sql`KILL CONNECTION ${sql.raw(String(rows[0]?.id))}`.execute(db);
          await sql`SELECT 1`.execute(conn);
        }),
      );
      expect(classifyFailure(killed)).toEqual(down);
    });
  });
});
