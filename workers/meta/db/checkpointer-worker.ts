// The checkpointer thread (checkpointer.ts): a connection per database file, a PASSIVE checkpoint of each
// on a timer. A checkpoint that finds the database busy does what it can and is tried again next time.
import { Database } from "bun:sqlite";

declare const self: Worker;

export type CheckpointRequest = { open: string; everyMs: number } | { close: string };

const open = new Map<string, { db: Database; timer: ReturnType<typeof setInterval> }>();

self.onmessage = (event: MessageEvent<CheckpointRequest>) => {
  const r = event.data;
  if ("open" in r) {
    if (open.has(r.open)) return;
    let db: Database;
    try {
      // Never created here: a database closed and removed before this message arrived stays gone.
      db = new Database(r.open, { readwrite: true, create: false });
    } catch {
      return;
    }
    db.exec("PRAGMA busy_timeout = 1000");
    const checkpoint = db.query("PRAGMA wal_checkpoint(PASSIVE)");
    const timer = setInterval(() => {
      try {
        checkpoint.get();
      } catch {
        // Busy or gone: the next turn tries again (the process's own checkpoint is the safety net).
      }
    }, r.everyMs);
    open.set(r.open, { db, timer });
  } else {
    const entry = open.get(r.close);
    if (!entry) return;
    open.delete(r.close);
    clearInterval(entry.timer);
    entry.db.close();
  }
};
