// Group commit for SQLite. SQLite has one writer (Kysely gives it one connection), so transactions that
// arrive while one runs wait for it anyway; a COMMIT costs the pages it writes to the WAL (and now and then
// a checkpoint), and the transactions of a burst of uploads touch the same pages (the folder's index, the
// owner's usage row, the blob index). So the waiting transactions run together: each inside a SAVEPOINT of
// one transaction, released when its body succeeds and rolled back when it throws (so each one commits or
// fails alone, exactly as in a transaction of its own), then one COMMIT for all. A caller's promise
// settles only after that COMMIT. When the shared transaction itself fails (a busy database, a full disk,
// a failed COMMIT), nothing of it was written, and every body runs again in a transaction of its own —
// bodies are safe to re-run (see transact.ts).
import { AsyncResource } from "node:async_hooks";
import { SqliteAdapter, sql } from "kysely";
import type { RetryOptions } from "../../../core/balance.ts";
import type { Db } from "./database.ts";

/** Most bodies in one shared transaction (bounds how long one COMMIT keeps readers waiting). */
export const GROUP_MAX = 64;

interface Waiting {
  /** The body, bound to its caller's async context (trace span, request id). */
  run: (tx: Db) => Promise<unknown>;
  opts: RetryOptions;
  settle: (outcome: Outcome) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Counts since the process started (tests and metrics). */
export const groupStats = { groups: 0, grouped: 0, fallbacks: 0 };

/** Runs a body in a transaction of its own, with transact's retries. */
export type Alone = <T>(fn: (tx: Db) => Promise<T>, opts: RetryOptions) => Promise<T>;

/** A shared transaction failed and rolled back: its bodies run again, each alone. */
class GroupFailed extends Error {}

class Committer {
  private readonly queue: Waiting[] = [];
  private draining = false;

  constructor(
    private readonly db: Db,
    private readonly alone: Alone,
    private readonly retryable: (err: unknown) => boolean,
  ) {}

  submit<T>(fn: (tx: Db) => Promise<T>, opts: RetryOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: AsyncResource.bind(fn),
        opts,
        settle: (o) => (o.ok ? resolve(o.value as T) : reject(o.error)),
      });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, GROUP_MAX);
        if (group.length === 1) await this.runAlone(group[0] as Waiting);
        else await this.runGroup(group);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runAlone(w: Waiting): Promise<void> {
    await this.alone(w.run, w.opts).then(
      (value) => w.settle({ ok: true, value }),
      (error) => w.settle({ ok: false, error }),
    );
  }

  private async runGroup(group: Waiting[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute(async (tx) => {
        const done: Outcome[] = [];
        for (const w of group) done.push(await this.inSavepoint(tx, w.run));
        return done;
      });
    } catch {
      // Nothing of the group was written: each body gets a transaction of its own (with its retries).
      groupStats.fallbacks++;
      for (const w of group) await this.runAlone(w);
      return;
    }
    groupStats.groups++;
    groupStats.grouped += group.length;
    group.forEach((w, i) => {
      w.settle(outcomes[i] as Outcome);
    });
  }

  /**
   * Runs one body between SAVEPOINT and RELEASE; when it throws, its writes are rolled back and the error
   * is its outcome. A lost lock conflict (another connection to the file writes) fails the group, as does
   * a failure of the savepoint statements themselves (SQLite may have rolled the whole transaction back,
   * e.g. on SQLITE_FULL): the bodies then run alone, with transact's retries.
   */
  private async inSavepoint(tx: Db, run: (tx: Db) => Promise<unknown>): Promise<Outcome> {
    await sql`savepoint grouped`.execute(tx);
    try {
      const value = await run(tx);
      await sql`release grouped`.execute(tx);
      return { ok: true, value };
    } catch (error) {
      if (this.retryable(error)) throw new GroupFailed("lock conflict", { cause: error });
      await sql`rollback to grouped`.execute(tx);
      await sql`release grouped`.execute(tx);
      return { ok: false, error };
    }
  }
}

const committers = new WeakMap<Db, Committer | null>();

/**
 * The group committer of `db` when it is SQLite (null for MySQL/MariaDB, whose connections write in
 * parallel and commit on their own). `alone` runs a body in a transaction of its own (with retries);
 * `retryable` tells a lost lock conflict.
 */
export function groupCommitter(db: Db, alone: Alone, retryable: (err: unknown) => boolean): Committer | null {
  let c = committers.get(db);
  if (c === undefined) {
    c = db.getExecutor().adapter instanceof SqliteAdapter ? new Committer(db, alone, retryable) : null;
    committers.set(db, c);
  }
  return c;
}
