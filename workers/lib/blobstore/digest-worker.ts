// A digest lane (a worker thread, see digest.ts). Two kinds of job:
//   - a file that another thread is writing: hashed by reading it back from the page cache as far as the
//     writer says it is written;
//   - a concatenation (multipart completion): files read one after the other, hashed, and — for one lane
//     — written into the new file (fdatasync'ed as it grows, fsync'ed at the end), so each byte is read
//     once here and the event loop is not involved. An open concatenation (a session's incremental
//     assembly, local.ts) takes more sources as they arrive and finishes only once sealed.
// Jobs progress in turns of a few MiB so that one large job never holds up the others or new messages.
import { closeSync, fdatasync, fstatSync, fsync, openSync, readSync, writeSync } from "node:fs";
import type { LaneReply, LaneRequest, SourceFile } from "./digest.ts";

declare const self: Worker;

const CHUNK = 1 << 20;
/** Bytes hashed per turn of the event loop, so that new messages are seen between turns. */
const TURN = 8 * CHUNK;
/** A concatenation's output is fdatasync'ed every this many bytes, so its closing fsync is short. */
const SYNC_EVERY = 32 * CHUNK;

interface Growing {
  kind: "growing";
  fd: number;
  hashers: Bun.CryptoHasher[];
  /** Bytes hashed so far. */
  pos: number;
  /** Bytes known to be in the file. */
  written: number;
  /** The final size, once the writer is done. */
  size?: number;
}

interface Concat {
  kind: "concat";
  sources: SourceFile[];
  hashers: Bun.CryptoHasher[];
  /** The source being read (index), its descriptor and position. */
  index: number;
  fd?: number;
  pos: number;
  /** The output: its descriptor, size, and the background fdatasync in progress (at most one). */
  out?: { fd: number; size: number; synced: number; syncing?: Promise<void> };
  total: number;
  /** More sources may come (append); done only once sealed. */
  open: boolean;
}

type Job = Growing | Concat;

const buffer = new Uint8Array(CHUNK);
const jobs = new Map<number, Job>();
let scheduled = false;

const reply = (r: LaneReply) => self.postMessage(r);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function closeQuietly(fd: number | undefined) {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function release(job: Job) {
  if (job.kind === "growing") closeQuietly(job.fd);
  else {
    closeQuietly(job.fd);
    closeQuietly(job.out?.fd);
  }
}

function hash(job: Job, n: number) {
  const bytes = buffer.subarray(0, n);
  for (const h of job.hashers) h.update(bytes);
  return bytes;
}

/** Works on a growing file for at most `budget` bytes; true when it is done. */
function stepGrowing(job: Growing, budget: number): [boolean, number] {
  let used = 0;
  while (job.pos < job.written && used < budget) {
    const n = readSync(job.fd, buffer, 0, Math.min(CHUNK, job.written - job.pos), job.pos);
    if (n <= 0) throw new Error(`the file ended at ${job.pos} bytes, before ${job.written}`);
    hash(job, n);
    job.pos += n;
    used += n;
  }
  return [job.size !== undefined && job.pos === job.size, used];
}

const sync = (fd: number, data: boolean) =>
  new Promise<void>((resolve, reject) =>
    (data ? fdatasync : fsync)(fd, (err) => (err ? reject(err) : resolve())),
  );

/** Works on a concatenation for at most `budget` bytes; true when all is read (and written). */
function stepConcat(job: Concat, budget: number): [boolean, number] {
  let used = 0;
  while (used < budget) {
    const source = job.sources[job.index];
    if (!source) return [!job.open, used];
    if (job.fd === undefined) {
      job.fd = openSync(source.path, "r");
      const st = fstatSync(job.fd, { bigint: true });
      // The very file that was listed (not a replacement sent meanwhile), with the size that was checked.
      if (
        String(st.ino) !== source.ino ||
        String(st.mtimeNs) !== source.mtimeNs ||
        Number(st.size) !== source.size
      )
        throw new Error(`${source.path} changed while it was being assembled`);
      job.pos = 0;
    }
    const n = readSync(job.fd, buffer, 0, Math.min(CHUNK, source.size - job.pos), job.pos);
    if (n <= 0 && job.pos < source.size) throw new Error(`${source.path} ended early`);
    if (n > 0) {
      const bytes = hash(job, n);
      if (job.out) {
        let off = 0;
        while (off < n) off += writeSync(job.out.fd, bytes, off, n - off, job.out.size + off);
        job.out.size += n;
        const out = job.out;
        if (!out.syncing && out.size - out.synced >= SYNC_EVERY) {
          // In the background (the thread pool): the disk works while this lane goes on reading.
          const upTo = out.size;
          out.syncing = sync(out.fd, true).then(() => {
            out.synced = upTo;
            out.syncing = undefined;
          });
          out.syncing.catch(() => undefined); // reported when awaited at the end
        }
      }
      job.pos += n;
      job.total += n;
      used += n;
    }
    if (job.pos >= source.size) {
      closeSync(job.fd);
      job.fd = undefined;
      job.index++;
    }
  }
  return [false, used];
}

/** Makes the output durable (the last background fdatasync, then fsync), then closes it. */
async function finishConcat(job: Concat) {
  try {
    if (job.out) {
      await job.out.syncing;
      await sync(job.out.fd, false);
    }
  } finally {
    release(job);
  }
}

function pump() {
  scheduled = false;
  let budget = TURN;
  // Open concatenations (assemblies growing in the background) get only what the others leave: a part's
  // upload waits for its own hash, never for an assembly.
  const background = (job: Job) => job.kind === "concat" && job.open;
  const order = [...jobs].sort(([, a], [, b]) => Number(background(a)) - Number(background(b)));
  for (const [id, job] of order) {
    if (budget <= 0) break;
    try {
      const [done, used] = job.kind === "growing" ? stepGrowing(job, budget) : stepConcat(job, budget);
      budget -= used;
      if (done) {
        jobs.delete(id);
        const answer = { id, digests: job.hashers.map((h) => h.digest("hex")), size: 0 };
        if (job.kind === "growing") {
          release(job);
          reply({ ...answer, size: job.pos });
        } else {
          void finishConcat(job).then(
            () => reply({ ...answer, size: job.total }),
            (err) => reply({ id, error: message(err) }),
          );
        }
      }
    } catch (err) {
      jobs.delete(id);
      release(job);
      reply({ id, error: message(err) });
    }
  }
  const pending = [...jobs.values()].some((j) =>
    j.kind === "concat" ? !j.open || j.index < j.sources.length : j.pos < j.written,
  );
  if (pending) schedule();
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
      const hashers = m.algorithms.map((a) => new Bun.CryptoHasher(a));
      jobs.set(m.id, { kind: "growing", fd: openSync(m.path, "r"), hashers, pos: 0, written: 0 });
    } else if (m.op === "concat") {
      const hashers = m.algorithms.map((a) => new Bun.CryptoHasher(a));
      const open = m.open === true;
      const job: Concat = { kind: "concat", sources: m.sources, hashers, index: 0, pos: 0, total: 0, open };
      // An open job's output was created by the caller (who may remove it at any time: then this fails).
      if (m.output) job.out = { fd: openSync(m.output, open ? "r+" : "wx"), size: 0, synced: 0 };
      jobs.set(m.id, job);
    } else {
      const job = jobs.get(m.id);
      if (!job) return; // failed or cancelled already
      if (m.op === "cancel") {
        jobs.delete(m.id);
        release(job);
      } else if (job.kind === "concat" && m.op === "append") job.sources.push(...m.sources);
      else if (job.kind === "concat" && m.op === "seal") job.open = false;
      else if (job.kind === "growing" && m.op === "written") job.written = Math.max(job.written, m.upTo);
      else if (job.kind === "growing" && m.op === "finish") {
        job.written = m.size;
        job.size = m.size;
      }
    }
  } catch (err) {
    reply({ id: m.id, error: message(err) });
  }
  schedule();
};
