// Group commit (SQLite only: MariaDB commits each transaction on its own connection): transactions that
// queue up share one COMMIT, yet each commits or fails alone, sees its caller's async context, and runs
// again alone when the shared transaction fails.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { type Db, migrateToLatest, openDatabase } from "./database.ts";
import { groupStats } from "./group-commit.ts";
import { testDatabases } from "./testing.ts";
import { DatabaseBusyError, transact } from "./transact.ts";

const user = (id: string) => ({
  id,
  username: id,
  username_key: id,
  password_hash: "x",
  created_at: 0,
  last_active_at: 0,
});
const usernames = async (db: Db) =>
  (await db.selectFrom("users").select("id").orderBy("id").execute()).map((r) => r.id);

for (const target of testDatabases()) {
  describe(`transact under concurrency on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
    });
    afterAll(() => drop());

    test("50 concurrent transactions: each commits or fails alone, with its own result", async () => {
      const before = { ...groupStats };
      const ids = Array.from({ length: 50 }, (_, i) => `u${String(i).padStart(2, "0")}`);
      const outcomes = await Promise.allSettled(
        ids.map((id, i) =>
          transact(db, async (tx) => {
            await tx.insertInto("users").values(user(id)).execute();
            // Every seventh fails after its write: the write must not survive.
            if (i % 7 === 3) throw new Error(`refused ${id}`);
            return id.toUpperCase();
          }),
        ),
      );
      const failed = ids.filter((_, i) => i % 7 === 3);
      outcomes.forEach((o, i) => {
        const id = ids[i] as string;
        if (failed.includes(id))
          expect(o).toEqual({ status: "rejected", reason: new Error(`refused ${id}`) });
        else expect(o).toEqual({ status: "fulfilled", value: id.toUpperCase() });
      });
      expect(await usernames(db)).toEqual(ids.filter((id) => !failed.includes(id)));
      // SQLite grouped them (the first runs alone; the rest queue behind it); MariaDB never groups.
      const grouped = groupStats.grouped - before.grouped;
      if (target.dialect === "sqlite") expect(grouped).toBeGreaterThan(1);
      else expect(grouped).toBe(0);
    });

    test("a body sees its caller's async context, not the first caller's", async () => {
      const als = new AsyncLocalStorage<string>();
      const seen = await Promise.all(
        ["c1", "c2", "c3", "c4"].map((name) =>
          als.run(name, () =>
            transact(db, async (tx) => {
              await tx.selectFrom("users").select("id").execute();
              return als.getStore();
            }),
          ),
        ),
      );
      expect(seen).toEqual(["c1", "c2", "c3", "c4"]);
    });

    test("a unique-key violation in one body leaves the others of its group committed", async () => {
      const outcomes = await Promise.allSettled(
        ["x1", "u00", "x2"].map((id) =>
          transact(db, (tx) => tx.insertInto("users").values(user(id)).execute()),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const names = await usernames(db);
      expect(names).toContain("x1");
      expect(names).toContain("x2");
    });
  });
}

describe("group commit on SQLite, another connection holding the write lock", () => {
  let dir: string;
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "filestore-group-"));
    const path = `sqlite:${join(dir, "db.sqlite")}`;
    a = openDatabase(path);
    await migrateToLatest(a);
    b = openDatabase(path);
    await b.selectFrom("users").select("id").execute();
  });
  afterAll(async () => {
    await a.destroy();
    await b.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Holds b's write lock (writing user `id`) until the returned function is called. */
  async function holdLock(id: string): Promise<() => Promise<void>> {
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let locked = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = b.transaction().execute(async (tx) => {
      await tx.insertInto("users").values(user(id)).execute();
      locked();
      await released;
    });
    await isLocked;
    return async () => {
      release();
      await holder;
    };
  }

  /**
   * Queues `ids` as inserts behind a transaction on `a` that waits, takes b's write lock meanwhile and then
   * lets the queue run: the inserts meet the lock as one group.
   */
  async function groupMeetsLock(ids: string[], holderId: string, opts: Parameters<typeof transact>[2]) {
    let go = () => {};
    const gate = new Promise<void>((r) => {
      go = r;
    });
    const blocker = transact(a, async (tx) => {
      await tx.selectFrom("users").select("id").execute();
      await gate;
    });
    const runs = new Map<string, number>();
    const pending = ids.map((id) =>
      transact(
        a,
        async (tx) => {
          runs.set(id, (runs.get(id) ?? 0) + 1);
          await tx.insertInto("users").values(user(id)).execute();
          return id;
        },
        opts,
      ).catch((e: unknown) => e),
    );
    const release = await holdLock(holderId);
    go();
    await blocker;
    return { pending: Promise.all(pending), runs, release };
  }

  test("the group fails on the lock; each body runs again alone and commits once the lock is gone", async () => {
    await sql`PRAGMA busy_timeout = 0`.execute(a);
    const before = groupStats.fallbacks;
    const { pending, runs, release } = await groupMeetsLock(["g1", "g2", "g3"], "holder1", {
      attempts: 50,
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    setTimeout(() => void release(), 100);
    expect(await pending).toEqual(["g1", "g2", "g3"]);
    await sql`PRAGMA busy_timeout = 5000`.execute(a);
    expect(groupStats.fallbacks).toBe(before + 1);
    expect(await usernames(a)).toEqual(["g1", "g2", "g3", "holder1"]);
    // The first body ran in the failed group, then alone (each left one row).
    expect(runs.get("g1")).toBeGreaterThanOrEqual(2);
  });

  test("still locked after every attempt: each caller gets DatabaseBusyError, nothing written", async () => {
    await sql`PRAGMA busy_timeout = 0`.execute(a);
    const { pending, release } = await groupMeetsLock(["h1", "h2", "h3"], "holder2", {
      attempts: 2,
      baseDelayMs: 1,
      maxDelayMs: 2,
    });
    const errors = await pending;
    await release();
    await sql`PRAGMA busy_timeout = 5000`.execute(a);
    for (const e of errors) expect(e).toBeInstanceOf(DatabaseBusyError);
    expect((await usernames(a)).filter((id) => id.startsWith("h"))).toEqual(["holder1", "holder2"]);
  });
});
