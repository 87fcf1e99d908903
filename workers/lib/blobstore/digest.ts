// Hashing off the event loop. SHA-256 and SHA-1 of a GiB take ~0.7 s and ~0.6 s of CPU; on the thread that
// also receives and writes the bytes they halve the upload speed. So the writer only tells digest lanes
// (worker threads, one per algorithm when there are two cores or more) how far the file is written, and
// the lanes read it back from the page cache and hash it. No bytes cross threads: a message is a few
// numbers per MiB, and memory stays flat however far the lanes fall behind.
//
// What is hashed is what is in the file — the bytes that the blob's name will stand for.
import { availableParallelism } from "node:os";

export type Algorithm = "sha256" | "sha1";

/** A file to read, identified beyond its name (so that a replacement written meanwhile is noticed). */
export interface SourceFile {
  path: string;
  ino: string;
  mtimeNs: string;
  size: number;
}

export type LaneRequest =
  | { op: "open"; id: number; path: string; algorithms: Algorithm[] }
  | {
      op: "concat";
      id: number;
      sources: SourceFile[];
      output?: string;
      algorithms: Algorithm[];
      /** More sources will come ("append") until "seal"; the output exists already. */
      open?: boolean;
    }
  | { op: "append"; id: number; sources: SourceFile[] }
  | { op: "seal"; id: number }
  | { op: "written"; id: number; upTo: number }
  | { op: "finish"; id: number; size: number }
  | { op: "cancel"; id: number };

export type LaneReply = { id: number; digests: string[]; size: number } | { id: number; error: string };

type RefWorker = Worker & { ref(): void; unref(): void };

interface Waiter {
  resolve: (r: { digests: string[]; size: number }) => void;
  reject: (err: Error) => void;
}

interface Lane {
  worker: RefWorker;
  waiting: Map<number, Waiter>;
  /** The jobs that keep the process alive: all but open assemblies nobody awaits yet. */
  held: Set<number>;
}

let lanes: Lane[] | undefined;

function hold(lane: Lane, id: number) {
  if (!lane.waiting.has(id) || lane.held.has(id)) return;
  if (lane.held.size === 0) lane.worker.ref();
  lane.held.add(id);
}

function wait(lane: Lane, id: number, w: Waiter, held: boolean) {
  lane.waiting.set(id, w);
  if (held) hold(lane, id);
}

function settle(lane: Lane, id: number) {
  lane.waiting.delete(id);
  if (lane.held.delete(id) && lane.held.size === 0) lane.worker.unref();
}
let nextId = 1;
let rotation = 0;

function startLanes(): Lane[] {
  const count = Math.min(2, availableParallelism());
  return Array.from({ length: count }, () => {
    // smol: a small heap; the lane holds no more than a 1 MiB read buffer and the hash states.
    const worker = new Worker(new URL("./digest-worker.ts", import.meta.url), {
      smol: true,
    } as WorkerOptions) as RefWorker;
    // Idle lanes must not keep a process alive; busy ones must (waiting on an unreferenced worker makes
    // Bun's event loop spin), so a lane is referenced exactly while it has jobs.
    worker.unref();
    const lane: Lane = { worker, waiting: new Map(), held: new Set() };
    worker.onmessage = (event: MessageEvent<LaneReply>) => {
      const r = event.data;
      const w = lane.waiting.get(r.id);
      if (!w) return;
      settle(lane, r.id);
      if ("error" in r) w.reject(new Error(`hashing failed: ${r.error}`));
      else w.resolve(r);
    };
    worker.onerror = (event) => {
      for (const [id, w] of lane.waiting) {
        settle(lane, id);
        w.reject(new Error(`hashing failed: ${event.message}`));
      }
    };
    return lane;
  });
}

/** The hashes of a file being written, computed by the lanes as the writer reports progress. */
export interface FileDigest {
  /** The first `upTo` bytes are in the file (written with write(2), not merely buffered). */
  written(upTo: number): void;
  /** The file is complete with `size` bytes: resolves to the hex digests once the lanes have read it all. */
  finish(size: number): Promise<Partial<Record<Algorithm, string>>>;
  /** Stops hashing (the file is being discarded). */
  cancel(): void;
}

/** Splits the algorithms over the lanes (SHA-256 and SHA-1 side by side) and sends each lane its job. */
function dispatch(
  algorithms: Algorithm[],
  request: (id: number, algorithms: Algorithm[], first: boolean) => LaneRequest,
  held = true,
) {
  lanes ??= startLanes();
  const all = lanes;
  // Jobs of one algorithm take turns on the lanes: a session's assembly and its parts being hashed (all
  // SHA-256) then run side by side instead of queueing on one thread.
  const start = rotation++ % all.length;
  const work = all
    .map((_, i) => ({
      lane: all[(start + i) % all.length] as Lane,
      id: nextId++,
      algorithms: algorithms.filter((_, k) => k % all.length === i),
    }))
    .filter((w) => w.algorithms.length > 0);
  const results = work.map(
    ({ lane, id }) =>
      new Promise<{ digests: string[]; size: number }>((resolve, reject) => {
        wait(lane, id, { resolve, reject }, held);
      }),
  );
  // A cancelled job's promise is never awaited.
  for (const r of results) r.catch(() => undefined);
  work.forEach(({ lane, id, algorithms: a }, i) => {
    lane.worker.postMessage(request(id, a, i === 0));
  });
  return {
    send(m: (id: number) => LaneRequest) {
      for (const { lane, id } of work) lane.worker.postMessage(m(id));
    },
    /** From now on the job keeps the process alive (someone awaits it). */
    hold() {
      for (const { lane, id } of work) hold(lane, id);
    },
    async result(): Promise<{ hashes: Record<Algorithm, string>; size: number }> {
      const replies = await Promise.all(results);
      const hashes = {} as Record<Algorithm, string>;
      work.forEach((w, i) => {
        w.algorithms.forEach((a, k) => {
          hashes[a] = replies[i]?.digests[k] as string;
        });
      });
      return { hashes, size: replies[0]?.size ?? 0 };
    },
    /** Resolves when every lane is done with the job, whichever way. */
    async settled(): Promise<void> {
      await Promise.allSettled(results);
    },
    cancel() {
      for (const { lane, id } of work) {
        settle(lane, id);
        lane.worker.postMessage({ op: "cancel", id });
      }
    },
  };
}

export function digestFile(path: string, algorithms: Algorithm[]): FileDigest {
  const job = dispatch(algorithms, (id, a) => ({ op: "open", id, path, algorithms: a }));
  return {
    written(upTo) {
      job.send((id) => ({ op: "written", id, upTo }));
    },
    async finish(size) {
      job.send((id) => ({ op: "finish", id, size }));
      return (await job.result()).hashes;
    },
    cancel: () => job.cancel(),
  };
}

/**
 * Concatenates `sources` into a new file `output` (created; fsync'ed when done) and hashes the whole. The
 * lane that writes also computes SHA-256; SHA-1 is computed by another lane reading the same files.
 */
export async function concatenateFiles(
  sources: SourceFile[],
  output: string,
  algorithms: Algorithm[] = ["sha256", "sha1"],
): Promise<{ hashes: Record<Algorithm, string>; size: number }> {
  const job = dispatch(algorithms, (id, a, first) => ({
    op: "concat",
    id,
    sources,
    output: first ? output : undefined,
    algorithms: a,
  }));
  return outcome(job);
}

/** A job's result once every lane is done with it: on a failure, the output is no longer touched. */
async function outcome(job: ReturnType<typeof dispatch>) {
  const [settled] = await Promise.allSettled([job.result(), job.settled()]);
  if (settled.status === "rejected") throw settled.reason;
  return settled.value;
}

/** A concatenation that grows as sources arrive (a multipart session's incremental assembly). */
export interface OpenConcatenation {
  /** Appends these files (read, checked against their identity, hashed and copied in the background). */
  append(sources: SourceFile[]): void;
  /** No more sources: resolves once all is hashed, written and the output fsync'ed. */
  finish(): Promise<{ hashes: Record<Algorithm, string>; size: number }>;
  /** Rejects when the lanes fail before finish (a source changed, the output went away). */
  readonly failed: Promise<never>;
  /** Stops (the output is being removed). */
  cancel(): void;
}

/**
 * Opens a concatenation into `output`, which the caller has created empty (so that removing it can never
 * race with a lane creating it). Until finish() it does not keep the process alive.
 */
export function openConcatenation(output: string, algorithms: Algorithm[]): OpenConcatenation {
  const job = dispatch(
    algorithms,
    (id, a, first) => ({
      op: "concat",
      id,
      sources: [],
      output: first ? output : undefined,
      algorithms: a,
      open: true,
    }),
    false,
  );
  const failed = job.result().then(() => new Promise<never>(() => undefined));
  failed.catch(() => undefined);
  return {
    append(sources) {
      if (sources.length > 0) job.send((id) => ({ op: "append", id, sources }));
    },
    finish() {
      job.hold();
      job.send((id) => ({ op: "seal", id }));
      return outcome(job);
    },
    failed,
    cancel: () => job.cancel(),
  };
}
