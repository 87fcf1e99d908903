// A digest lane (a worker thread, see digest.ts): hashes files that another thread is writing, by reading
// them back from the page cache as far as the writer says they are written. A job is a byte range of a
// file from an offset (a body in tmp/, a part in a multipart session's file, or that whole file growing
// as its parts arrive). Jobs progress in turns of a few MiB so that one large job never holds up the
// others or new messages; background jobs (whole-file hashes of sessions) get what the others leave.
import { closeSync, openSync, readSync } from "node:fs";
import type { LaneReply, LaneRequest } from "./digest.ts";
import { type Hasher, hasherFor } from "./hashers.ts";

declare const self: Worker;

const CHUNK = 1 << 20;
/** Bytes hashed per turn of the event loop, so that new messages are seen between turns. */
const TURN = 8 * CHUNK;

interface Job {
  fd: number;
  offset: number;
  background: boolean;
  hashers: Hasher[];
  /** Bytes hashed so far. */
  pos: number;
  /** Bytes known to be in the file. */
  written: number;
  /** The final size, once the writer is done. */
  size?: number;
}

const buffer = new Uint8Array(CHUNK);
const jobs = new Map<number, Job>();
let scheduled = false;

const reply = (r: LaneReply) => self.postMessage(r);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function release(job: Job) {
  try {
    closeSync(job.fd);
  } catch {
    // already closed
  }
}

/** Works on a job for at most `budget` bytes; true when it is done. */
function step(job: Job, budget: number): [boolean, number] {
  let used = 0;
  while (job.pos < job.written && used < budget) {
    const want = Math.min(CHUNK, job.written - job.pos);
    const n = readSync(job.fd, buffer, 0, want, job.offset + job.pos);
    if (n <= 0) throw new Error(`the file ended at ${job.offset + job.pos} bytes, before ${job.written}`);
    const bytes = buffer.subarray(0, n);
    for (const h of job.hashers) h.update(bytes);
    job.pos += n;
    used += n;
  }
  return [job.size !== undefined && job.pos === job.size, used];
}

function pump() {
  scheduled = false;
  let budget = TURN;
  // A body's or a part's upload waits for its own hash, never for a session's whole-file hash.
  const order = [...jobs].sort(([, a], [, b]) => Number(a.background) - Number(b.background));
  for (const [id, job] of order) {
    if (budget <= 0) break;
    try {
      const [done, used] = step(job, budget);
      budget -= used;
      if (done) {
        jobs.delete(id);
        release(job);
        reply({ id, digests: job.hashers.map((h) => h.digest()), size: job.pos });
      }
    } catch (err) {
      jobs.delete(id);
      release(job);
      reply({ id, error: message(err) });
    }
  }
  if ([...jobs.values()].some((j) => j.pos < j.written)) schedule();
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

self.onmessage = (event: MessageEvent<LaneRequest>) => {
  const m = event.data;
  try {
    if (m.op === "open") {
      const hashers = m.algorithms.map(hasherFor);
      const fd = openSync(m.path, "r");
      jobs.set(m.id, { fd, offset: m.offset, background: m.background, hashers, pos: 0, written: 0 });
    } else {
      const job = jobs.get(m.id);
      if (!job) return; // failed or cancelled already
      if (m.op === "cancel") {
        jobs.delete(m.id);
        release(job);
      } else if (m.op === "written") job.written = Math.max(job.written, m.upTo);
      else if (m.op === "finish") {
        job.written = m.size;
        job.size = m.size;
      }
    }
  } catch (err) {
    reply({ id: m.id, error: message(err) });
  }
  schedule();
};
