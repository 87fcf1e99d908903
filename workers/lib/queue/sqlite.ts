// The durable queue of the all-in-one mode: a SQLite file (bun:sqlite) beside the database. A delivery
// moves `visible_at` into the future (the visibility timeout, or the backoff after a failure); what is
// visible and not dead is up for delivery. Deliveries are counted in `attempts`; a delivery is fenced by
// (consumer, attempts), so a consumer that lost its message (timed out, delivered elsewhere) cannot ack
// or fail the newer delivery. `first_at` is when the first attempt started (the time budget counts from
// there); `cause` is what the consumer said about a dead letter's failure.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  backoffMs,
  budgetSpent,
  type DeadLetter,
  type Message,
  type Queue,
  type QueueOptions,
  TIMED_OUT,
} from "./types.ts";

interface Row {
  id: number;
  key: string;
  body: string;
  attempts: number;
  consumer: string | null;
  last_error: string | null;
  dead_at: number | null;
  first_at: number | null;
  cause: string | null;
  trace: string | null;
}

const COLUMNS = "id, key, body, attempts, consumer, last_error, dead_at, first_at, cause, trace";

/** How often a waiting receive() looks again (another process may publish into the same file). */
const POLL_MS = 100;

/** The queue file, its table made or brought up to date (WAL: readers do not wait for the writer). */
function openDatabase(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec(`CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    visible_at INTEGER NOT NULL,
    consumer TEXT,
    last_error TEXT,
    dead_at INTEGER,
    first_at INTEGER,
    cause TEXT,
    trace TEXT
  )`);
  // A file made before these columns existed gets them.
  const have = new Set(
    db
      .query<{ name: string }, []>("PRAGMA table_info(queue_messages)")
      .all()
      .map((c) => c.name),
  );
  for (const [column, type] of [
    ["first_at", "INTEGER"],
    ["cause", "TEXT"],
    ["trace", "TEXT"],
  ] as const)
    if (!have.has(column)) db.exec(`ALTER TABLE queue_messages ADD COLUMN ${column} ${type}`);
  db.exec(
    "CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, dead_at, visible_at, id)",
  );
  return db;
}

export function openSqliteQueue(
  path: string,
  name: string,
  options: QueueOptions,
  now: () => number = Date.now,
): Queue {
  const db = openDatabase(path);

  const insert = db.query(
    "INSERT INTO queue_messages (queue, key, body, visible_at, trace) VALUES (?, ?, ?, ?, ?)",
  );
  const ready = db.query<Row, [string, number, number]>(
    `SELECT ${COLUMNS} FROM queue_messages
     WHERE queue = ? AND dead_at IS NULL AND visible_at <= ? ORDER BY visible_at, id LIMIT ?`,
  );
  const deliver = db.query(
    `UPDATE queue_messages SET attempts = attempts + 1, consumer = ?, visible_at = ?,
     first_at = COALESCE(first_at, ?) WHERE id = ?`,
  );
  const bury = db.query(
    `UPDATE queue_messages SET dead_at = ?, consumer = NULL, last_error = ?, cause = ''
     WHERE id = ? AND dead_at IS NULL`,
  );
  const fence = "id = ? AND consumer = ? AND attempts = ? AND dead_at IS NULL";
  const remove = db.query(`DELETE FROM queue_messages WHERE ${fence}`);
  const extend = db.query(`UPDATE queue_messages SET visible_at = ? WHERE ${fence}`);
  const later = db.query(
    `UPDATE queue_messages SET visible_at = ?, consumer = NULL, last_error = ? WHERE ${fence}`,
  );
  const buryOwned = db.query(
    `UPDATE queue_messages SET dead_at = ?, consumer = NULL, last_error = ?, cause = ? WHERE ${fence}`,
  );
  // Pages by (dead_at, id) after the last letter seen: stays right when letters are retried meanwhile.
  const dead = db.query<Row, [string, number, number, number, number]>(
    `SELECT ${COLUMNS} FROM queue_messages
     WHERE queue = ? AND dead_at IS NOT NULL AND (dead_at > ? OR (dead_at = ? AND id > ?))
     ORDER BY dead_at, id LIMIT ?`,
  );
  const revive = db.query(
    `UPDATE queue_messages SET dead_at = NULL, attempts = 0, consumer = NULL, last_error = NULL,
     first_at = NULL, cause = NULL, visible_at = ? WHERE id = ? AND queue = ? AND dead_at IS NOT NULL`,
  );

  // In-process publishers wake waiting receivers at once; other processes are seen by polling.
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };

  const take = db.transaction((consumer: string, max: number): Message[] => {
    const t = now();
    const out: Message[] = [];
    for (const row of ready.all(name, t, max)) {
      // Delivered before and never acked or failed: its consumer died. With its budget spent, that ends it.
      if (row.consumer !== null && budgetSpent(options, row.attempts, row.first_at ?? t, t)) {
        bury.run(t, TIMED_OUT, row.id);
        continue;
      }
      deliver.run(consumer, t + options.visibilityMs, t, row.id);
      out.push({
        id: String(row.id),
        key: row.key,
        body: row.body,
        trace: row.trace ?? "",
        attempt: row.attempts + 1,
        firstAttemptAt: row.first_at ?? t,
        consumer,
      });
    }
    return out;
  });

  const fenced = (msg: Message) => [Number(msg.id), msg.consumer, msg.attempt] as const;

  return {
    options,
    async publish(key, body, trace = "") {
      insert.run(name, key, body, now(), trace);
      wake();
    },
    async receive(consumer, max, waitMs) {
      const until = Date.now() + waitMs;
      for (;;) {
        const got = take.immediate(consumer, max);
        const left = until - Date.now();
        if (got.length > 0 || left <= 0) return got;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(POLL_MS, left));
          waiters.add(done);
        });
      }
    },
    async ack(msg) {
      remove.run(...fenced(msg));
    },
    async touch(msg) {
      extend.run(now() + options.visibilityMs, ...fenced(msg));
    },
    async fail(msg, error, opts = {}) {
      const t = now();
      if (opts.permanent || budgetSpent(options, msg.attempt, msg.firstAttemptAt, t)) {
        buryOwned.run(t, error, opts.cause ?? "", ...fenced(msg));
        return "dead";
      }
      later.run(t + backoffMs(options, msg.attempt), error, ...fenced(msg));
      return "retry";
    },
    async deadLetters(limit, after): Promise<DeadLetter[]> {
      const [at, id] = after ? [after.failedAt, Number(after.id)] : [-1, -1];
      return dead.all(name, at, at, id, limit).map((r) => ({
        id: String(r.id),
        key: r.key,
        body: r.body,
        attempts: r.attempts,
        error: r.last_error ?? "",
        cause: r.cause ?? "",
        failedAt: r.dead_at ?? 0,
      }));
    },
    async retryDead(id) {
      if (!/^[0-9]+$/.test(id)) return false;
      const changed = revive.run(now(), Number(id), name).changes === 1;
      if (changed) wake();
      return changed;
    },
    async close() {
      wake();
      db.close();
    },
  };
}
