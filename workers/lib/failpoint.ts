// TEST-ONLY crash points. With FILESTORE_TEST_FAILPOINTS_DIR set (never in production), failpoint(name)
// checks for a file "<name>.arm" there: the first process to reach the point renames it to "<name>.hit"
// (atomic: one process wins), writes its PID into it and freezes its thread until it is killed, so that a
// test can `kill -9` it exactly at that point. Without the variable, or with the point not armed, it
// returns at once. The e2e suite e2e/completion-crash.test.ts arms the points of multipart completion.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.FILESTORE_TEST_FAILPOINTS_DIR;

export function failpoint(name: string): void {
  if (!dir) return;
  const hit = join(dir, `${name}.hit`);
  try {
    renameSync(join(dir, `${name}.arm`), hit);
  } catch {
    return; // not armed, or another process took it
  }
  writeFileSync(hit, String(process.pid));
  // Blocks the event loop itself (not just this call), as a kill at this instant would.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
