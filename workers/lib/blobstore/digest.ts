// Hashing off the event loop. SHA-256 and SHA-1 of a GiB take ~0.7 s and ~0.6 s of CPU; on the thread that
// also receives and writes the bytes they halve the upload speed. So the writer only tells digest lanes
// (worker threads, one per algorithm when there are two cores or more) how far the file is written, and
// the lanes read it back from the page cache and hash it. No bytes cross threads: a message is a few
// numbers per MiB, and memory stays flat however far the lanes fall behind.
//
// What is hashed is what is in the file — the bytes that the blob's name will stand for.
import { availableParallelism } from "node:os";
import { type Algorithm, hasherFor } from "./hashers.ts";

export type { Algorithm };

export type LaneRequest =
  | {
      op: "open";
      id: number;
      path: string;
      algorithms: Algorithm[];
      /** Where the bytes to hash start in the file. */
      offset: number;
      /** Hashed only with what other jobs leave (a session's whole-file hash, growing as parts arrive). */
      background: boolean;
    }
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
  /** The first `upTo` bytes (from the offset) are in the file (written with write(2), not merely buffered). */
  written(upTo: number): void;
  /** The next bytes as written to the file (a digest that hashes on the writer's thread takes them here). */
  chunk?(bytes: Uint8Array): void;
  /** The file is complete with `size` bytes: resolves to the hex digests once the lanes have read it all. */
  finish(size: number): Promise<Partial<Record<Algorithm, string>>>;
  /** Stops hashing (the file is being discarded). */
  cancel(): void;
}

/** Splits the algorithms over the lanes (SHA-256 and SHA-1 side by side) and sends each lane its job. */
function dispatch(
  algorithms: Algorithm[],
  request: (id: number, algorithms: Algorithm[]) => LaneRequest,
  held = true,
) {
  lanes ??= startLanes();
  const all = lanes;
  // Jobs of one algorithm take turns on the lanes: a session's whole-file hash and its parts being hashed
  // (all SHA-256) then run side by side instead of queueing on one thread.
  const start = rotation++ % all.length;
  // A CRC-32 costs a tenth of a SHA-256: it rides along with the first lane's job (the bytes it reads
  // anyway) rather than making a lane read the whole file back for itself.
  const split = algorithms.filter((a) => a !== "crc32");
  const work = all
    .map((_, i) => ({
      lane: all[(start + i) % all.length] as Lane,
      id: nextId++,
      algorithms: [
        ...split.filter((_, k) => k % all.length === i),
        ...(i === 0 && split.length < algorithms.length ? ["crc32" as const] : []),
      ],
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
  for (const { lane, id, algorithms: a } of work) lane.worker.postMessage(request(id, a));
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
    cancel() {
      for (const { lane, id } of work) {
        settle(lane, id);
        lane.worker.postMessage({ op: "cancel", id });
      }
    },
  };
}

export interface DigestOptions {
  /** Where the bytes to hash start in the file (a part in a session's file). Default 0. */
  offset?: number;
  /**
   * A long-lived job that may wait for more bytes indefinitely (a multipart session's whole-file hash):
   * the lanes serve it last, and it keeps the process alive only once finish() is awaited.
   */
  background?: boolean;
}

export function digestFile(path: string, algorithms: Algorithm[], opts: DigestOptions = {}): FileDigest {
  const background = opts.background === true;
  const job = dispatch(
    algorithms,
    (id, a) => ({ op: "open", id, path, algorithms: a, offset: opts.offset ?? 0, background }),
    !background,
  );
  return {
    written(upTo) {
      job.send((id) => ({ op: "written", id, upTo }));
    },
    async finish(size) {
      job.hold();
      job.send((id) => ({ op: "finish", id, size }));
      return (await job.result()).hashes;
    },
    cancel: () => job.cancel(),
  };
}

/**
 * Bodies known to be at most this large are hashed on the writer's thread as they are written: for a few
 * KiB the lanes' messages, wake-ups and read-back cost more than the hashing itself (~40 µs for 32 KiB of
 * SHA-256 and SHA-1), and many small uploads at once would queue on them.
 */
export const INLINE_DIGEST_BYTES = 1 << 20;

/** A FileDigest of the bytes handed to chunk(), hashed at once (for small bodies: INLINE_DIGEST_BYTES). */
export function inlineDigest(algorithms: Algorithm[]): FileDigest {
  const hashers = algorithms.map((a) => [a, hasherFor(a)] as const);
  return {
    written() {},
    chunk(bytes) {
      for (const [, h] of hashers) h.update(bytes);
    },
    async finish() {
      return Object.fromEntries(hashers.map(([a, h]) => [a, h.digest()]));
    },
    cancel() {},
  };
}
