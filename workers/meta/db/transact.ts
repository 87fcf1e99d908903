// Every transaction of the data layer runs through transact(): a transaction that lost a lock conflict
// (MySQL/MariaDB deadlock, lock-wait timeout or serialization failure; SQLite busy) is rolled back by the
// database and run again after a jittered pause. Bodies must therefore be safe to re-run: they may only
// touch the database (ids generated inside are fine: the attempt that made them was rolled back).
import { backoffMs, type RetryOptions, sleep } from "../../../core/balance.ts";
import { createLogger } from "../../lib/log.ts";
import type { Db } from "./database.ts";
import { groupCommitter } from "./group-commit.ts";

/** The database stayed busy through every attempt: nothing was written; the caller may try again later. */
export class DatabaseBusyError extends Error {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`the database stayed busy (lock conflicts) through ${attempts} attempts`, { cause });
  }
}

// MySQL/MariaDB: 1213 deadlock (the transaction was rolled back), 1205 lock wait timeout, 1020 "record
// has changed since last read" (MariaDB's snapshot isolation), and any SQLSTATE 40001.
const MYSQL_RETRYABLE = new Set([1213, 1205, 1020]);

/** True when err means "lost a lock conflict, run the transaction again", on either dialect. */
export function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; sqlState?: unknown };
  if (typeof e?.errno === "number" && MYSQL_RETRYABLE.has(e.errno)) return true;
  if (e?.sqlState === "40001") return true;
  // bun:sqlite: SQLITE_BUSY (another connection writes past busy_timeout), SQLITE_BUSY_SNAPSHOT (a read
  // snapshot went stale before the first write), SQLITE_LOCKED.
  return typeof e?.code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(e.code);
}

/** Attempts in all, and the pauses between them (full jitter, doubling). */
export const TRANSACT_RETRY: Required<RetryOptions> = { attempts: 8, baseDelayMs: 10, maxDelayMs: 500 };

/** Counts since the process started (for tests and metrics). */
export const transactStats = { retried: 0, exhausted: 0 };

const log = createLogger("db");

/**
 * Runs fn in a transaction, again on a lost lock conflict (see isRetryableConflict), and throws
 * DatabaseBusyError once the attempts are used up. Inside a transaction already, fn simply joins it (the
 * outermost transact retries the whole). On SQLite, transactions that queue up share one COMMIT
 * (group-commit.ts); each still commits or fails alone.
 */
export async function transact<T>(
  db: Db,
  fn: (tx: Db) => Promise<T>,
  opts: RetryOptions = TRANSACT_RETRY,
): Promise<T> {
  if (db.isTransaction) return fn(db);
  const group = groupCommitter(db, (f, o) => transactAlone(db, f, o), isRetryableConflict);
  return group ? group.submit(fn, opts) : transactAlone(db, fn, opts);
}

/** transact without grouping: fn in a transaction of its own, with the retries. */
async function transactAlone<T>(db: Db, fn: (tx: Db) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? TRANSACT_RETRY.attempts);
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (!isRetryableConflict(err)) throw err;
      if (attempt + 1 >= attempts) {
        transactStats.exhausted++;
        log.warn("transaction gave up after lock conflicts", { attempts, err: String(err) });
        throw new DatabaseBusyError(attempts, err);
      }
      transactStats.retried++;
      log.debug("transaction lost a lock conflict: retrying", { attempt: attempt + 1, err: String(err) });
      await sleep(backoffMs(attempt, { ...TRANSACT_RETRY, ...opts }));
    }
  }
}
