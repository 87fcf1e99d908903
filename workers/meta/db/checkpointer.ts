// SQLite's WAL checkpoints on a thread of their own. A checkpoint copies the WAL's pages into the database
// file and fsyncs both; run by the connection whose commit crosses wal_autocheckpoint, it held the event
// loop for tens of ms each time under a stream of small uploads (every request waited). Here one worker
// thread per process runs PASSIVE checkpoints (they never block a writer or a reader) on a connection of
// its own to each database file, every CHECKPOINT_EVERY_MS; the process's connection keeps its automatic
// checkpoint as a safety net, at a size it does not reach while the thread keeps up.
import type { CheckpointRequest } from "./checkpointer-worker.ts";

export const CHECKPOINT_EVERY_MS = 250;
/** The process's own automatic checkpoint (pages of 4 KiB: 40 MiB of WAL), should the thread fall behind. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

type RefWorker = Worker & { ref(): void; unref(): void };
let worker: RefWorker | undefined;
const watched = new Map<string, number>();

function post(request: CheckpointRequest) {
  if (!worker) {
    // smol: a small heap; the thread holds a connection per database and nothing else.
    worker = new Worker(new URL("./checkpointer-worker.ts", import.meta.url), {
      smol: true,
    } as WorkerOptions) as RefWorker;
    // The thread must not keep a process alive (it only ever sends nothing back).
    worker.unref();
  }
  worker.postMessage(request);
}

/** Checkpoints the database file at `path` off this thread until the returned function is called. */
export function checkpointInBackground(path: string): () => void {
  watched.set(path, (watched.get(path) ?? 0) + 1);
  if (watched.get(path) === 1) post({ open: path, everyMs: CHECKPOINT_EVERY_MS });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (watched.get(path) ?? 1) - 1;
    if (left > 0) return void watched.set(path, left);
    watched.delete(path);
    post({ close: path });
  };
}
