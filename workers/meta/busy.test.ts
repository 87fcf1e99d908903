// A database kept busy by another connection: the meta services answer Unavailable with a retry hint (never
// Internal), for a transaction that used up its retries and for a single statement alike.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "kysely";
import type { MetaClient } from "../lib/meta-client.ts";
import { type Db, migrateToLatest, openDatabase } from "./db/database.ts";
import { metaTestClient } from "./testing.ts";

// failure.ts finds the lock conflict behind DatabaseBusyError (its cause) or a single statement's error.
const DATABASE_BUSY = /^the database is busy, retry in a moment \(request id [0-9a-f-]{36}\)$/;

describe("the meta services on a busy database", () => {
  let dir: string;
  let db: Db;
  let other: Db;
  let meta: MetaClient;
  let owner: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "filestore-busy-"));
    const url = `sqlite:${join(dir, "meta.sqlite")}`;
    db = openDatabase(url);
    await migrateToLatest(db);
    other = openDatabase(url);
    meta = metaTestClient(db);
    owner = (await meta.createUser({ username: "alice", passwordHash: "x" })).user?.id ?? "";
    // No waiting for the lock: each attempt fails at once (transact still retries a few times).
    await sql`PRAGMA busy_timeout = 0`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
    await other.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `call` while the other connection holds the write lock; the error it fails with. */
  async function whileLocked(call: () => Promise<unknown>): Promise<ConnectError | undefined> {
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let locked = () => {};
    const holding = new Promise<void>((r) => {
      locked = r;
    });
    const holder = other.transaction().execute(async (tx) => {
      await tx.updateTable("users").set({ last_active_at: 1 }).execute();
      locked();
      await released;
    });
    await holding;
    try {
      await call();
      return undefined;
    } catch (err) {
      return ConnectError.from(err);
    } finally {
      release();
      await holder;
    }
  }

  test("a transaction that stays busy: Unavailable, nothing written; the same call succeeds afterwards", async () => {
    const req = { ownerId: owner, parentId: "", name: "docs" };
    const err = await whileLocked(() => meta.createFolder(req));
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toMatch(DATABASE_BUSY);
    expect((await meta.listFiles({ ownerId: owner, parentId: "" })).files).toEqual([]);
    expect((await meta.createFolder(req)).folder?.name).toBe("docs");
  });

  test("a single statement that meets the lock: Unavailable too", async () => {
    const err = await whileLocked(() => meta.touchUser({ id: owner }));
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toMatch(DATABASE_BUSY);
  });

  test("other errors keep their codes", async () => {
    const err = await whileLocked(() => meta.listFiles({ ownerId: owner, parentId: crypto.randomUUID() }));
    expect(err?.code).toBe(Code.NotFound);
  });
});
