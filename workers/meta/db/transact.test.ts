// transact() on both dialects, with real lock conflicts: a deadlock between two MariaDB connections, a lock
// held past the lock-wait timeout, and SQLite's busy answers between two connections to one file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { type Db, isUniqueViolation, migrateToLatest, openDatabase } from "./database.ts";
import { testDatabases } from "./testing.ts";
import { DatabaseBusyError, isRetryableConflict, transact, transactStats } from "./transact.ts";

const quick = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

async function addUser(db: Db, id: string): Promise<void> {
  await db
    .insertInto("users")
    .values({ id, username: id, username_key: id, password_hash: "x", created_at: 0, last_active_at: 0 })
    .execute();
}

const touch = (db: Db, id: string, at: number) =>
  db.updateTable("users").set({ last_active_at: at }).where("id", "=", id).execute();

const activeAt = async (db: Db, id: string) =>
  Number(
    (await db.selectFrom("users").select("last_active_at").where("id", "=", id).executeTakeFirstOrThrow())
      .last_active_at,
  );

/** Resolves for each caller once `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release = () => {};
  const all = new Promise<void>((r) => {
    release = r;
  });
  return () => {
    if (++arrived === n) release();
    return all;
  };
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}

for (const target of testDatabases()) {
  describe(`transact on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      for (const id of ["a", "b", "c"]) await addUser(db, id);
    });
    afterAll(() => drop());

    test("commits the body once and returns its value", async () => {
      let runs = 0;
      const value = await transact(db, async (tx) => {
        runs++;
        await touch(tx, "a", 5);
        return "done";
      });
      expect([value, runs, await activeAt(db, "a")]).toEqual(["done", 1, 5]);
    });

    test("an error that is no lock conflict is thrown as it is, after one attempt, nothing written", async () => {
      let runs = 0;
      const failed = transact(db, async (tx) => {
        runs++;
        await touch(tx, "a", 6);
        await addUser(tx, "b"); // exists
      });
      const err = await failed.catch((e: unknown) => e);
      expect([isUniqueViolation(err), isRetryableConflict(err), runs]).toEqual([true, false, 1]);
      expect(await activeAt(db, "a")).toBe(5);
    });

    test("inside a transaction it joins it: a failure rolls the whole back", async () => {
      const failed = transact(db, async (tx) => {
        await touch(tx, "a", 7);
        await transact(tx, async (inner) => {
          await touch(inner, "b", 7);
          throw new Error("boom");
        });
      });
      await expect(failed).rejects.toThrow("boom");
      expect([await activeAt(db, "a"), await activeAt(db, "b")]).toEqual([5, 0]);
    });

    if (target.dialect === "mysql") {
      /**
       * Two transactions lock "a" and "b" in opposite orders; both hold their first lock before either
       * asks for its second: MariaDB picks a victim (errno 1213).
       */
      const crossed = (run: (fn: (tx: Db) => Promise<void>) => Promise<void>) => {
        const bothLocked = barrier(2);
        let runs = 0;
        const one = (first: string, second: string, at: number) =>
          run(async (tx) => {
            const attempt = ++runs;
            await touch(tx, first, at);
            if (attempt <= 2) await bothLocked();
            await touch(tx, second, at);
          });
        return { all: Promise.allSettled([one("a", "b", 10), one("b", "a", 20)]), runs: () => runs };
      };

      test("a real deadlock: without transact one side fails with 1213; with it the victim runs again", async () => {
        const bare = crossed((fn) => db.transaction().execute(fn));
        const outcomes = await bare.all;
        const rejected = outcomes.filter((o) => o.status === "rejected") as PromiseRejectedResult[];
        expect(rejected.map((o) => (o.reason as { errno?: number }).errno)).toEqual([1213]);

        const before = transactStats.retried;
        const retried = crossed((fn) => transact(db, fn));
        expect((await retried.all).map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
        expect(retried.runs()).toBe(3);
        expect(transactStats.retried - before).toBe(1);
        // Both committed, in some order: each user carries one transaction's time.
        expect([10, 20]).toContain(await activeAt(db, "a"));
        expect(await activeAt(db, "a")).toBe(await activeAt(db, "b"));
      });

      test("a lock held past the lock-wait timeout (1205): DatabaseBusyError after the attempts", async () => {
        const release = gate();
        const locked = gate();
        const holder = db.transaction().execute(async (tx) => {
          await touch(tx, "c", 1);
          locked.open();
          await release.opened;
        });
        await locked.opened;
        let runs = 0;
        const err = await transact(
          db,
          async (tx) => {
            runs++;
            await sql`SET SESSION innodb_lock_wait_timeout = 1`.execute(tx);
            await touch(tx, "c", 2);
          },
          { ...quick, attempts: 2 },
        ).catch((e: unknown) => e);
        release.open();
        await holder;
        expect(err).toBeInstanceOf(DatabaseBusyError);
        expect(((err as Error).cause as { errno?: number }).errno).toBe(1205);
        expect([runs, await activeAt(db, "c")]).toEqual([2, 1]);
      }, 20_000);
    }
  });
}

describe("transact on SQLite, two connections to one file", () => {
  let dir: string;
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "filestore-transact-"));
    const path = `sqlite:${join(dir, "db.sqlite")}`;
    a = openDatabase(path);
    await migrateToLatest(a);
    b = openDatabase(path);
    for (const id of ["a", "b"]) await addUser(a, id);
    // Statements prepared ahead, so that the conflict below is the stale snapshot's own.
    for (const db of [a, b]) await Promise.all([touch(db, "b", 0), activeAt(db, "a")]);
  });
  afterAll(async () => {
    await a.destroy();
    await b.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads (a snapshot), lets the other connection commit a write, then writes: the snapshot is stale. */
  let writes = 0;
  const staleWrite = (run: (fn: (tx: Db) => Promise<void>) => Promise<void>) => {
    let runs = 0;
    const done = run(async (tx) => {
      runs++;
      await activeAt(tx, "a");
      if (runs === 1) await touch(b, "b", ++writes);
      await touch(tx, "a", 100 + runs);
    });
    return { done, runs: () => runs };
  };

  test("a stale snapshot (SQLITE_BUSY): without transact the write fails; with it, it runs again", async () => {
    const bare = await staleWrite((fn) => a.transaction().execute(fn)).done.catch((e: unknown) => e);
    expect((bare as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    const retried = staleWrite((fn) => transact(a, fn, quick));
    await retried.done;
    expect([retried.runs(), await activeAt(a, "a")]).toEqual([2, 102]);
  });

  test("another connection holding the write lock: DatabaseBusyError after the attempts", async () => {
    await sql`PRAGMA busy_timeout = 0`.execute(a);
    const release = gate();
    const locked = gate();
    const holder = b.transaction().execute(async (tx) => {
      await touch(tx, "b", 1);
      locked.open();
      await release.opened;
    });
    await locked.opened;
    let runs = 0;
    const err = await transact(
      a,
      async (tx) => {
        runs++;
        await touch(tx, "a", 1);
      },
      quick,
    ).catch((e: unknown) => e);
    release.open();
    await holder;
    await sql`PRAGMA busy_timeout = 5000`.execute(a);
    expect(err).toBeInstanceOf(DatabaseBusyError);
    expect(runs).toBe(3);
    expect(await activeAt(a, "a")).not.toBe(1);
  });
});
