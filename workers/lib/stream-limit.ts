// A cap on the long-lived server streams (watch feeds) one user holds open in this process: each costs
// memory here and at the gateway, and periodic work while it lasts. Counted per process: behind several
// replicas a user may hold up to the limit on each one their streams land on.
import { resourceExhausted } from "./errors.ts";

export class StreamLimit {
  readonly #open = new Map<string, number>();

  /** `limit` streams per user at most; 0: no limit. */
  constructor(readonly limit: number) {}

  /**
   * Counts one more stream of `userId` (ResourceExhausted beyond the limit) until the returned release
   * is called or `signal` aborts, whichever comes first (a client that goes away ends it).
   */
  acquire(userId: string, signal: AbortSignal): () => void {
    const n = this.#open.get(userId) ?? 0;
    if (this.limit > 0 && n >= this.limit)
      throw resourceExhausted(`too many open watches: close other tabs or clients (limit ${this.limit})`);
    this.#open.set(userId, n + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      signal.removeEventListener("abort", release);
      const left = (this.#open.get(userId) ?? 1) - 1;
      if (left > 0) this.#open.set(userId, left);
      else this.#open.delete(userId);
    };
    signal.addEventListener("abort", release, { once: true });
    if (signal.aborted) release();
    return release;
  }

  /** The streams `userId` holds open here. */
  count(userId: string): number {
    return this.#open.get(userId) ?? 0;
  }

  /** Users holding streams open here (none left behind by streams that ended). */
  users(): number {
    return this.#open.size;
  }

  /** `stream`, counted while it runs: released however it ends (done, failed, cancelled, aborted). */
  async *run<T>(userId: string, signal: AbortSignal, stream: () => AsyncIterable<T>): AsyncGenerator<T> {
    const release = this.acquire(userId, signal);
    try {
      yield* stream();
    } finally {
      release();
    }
  }
}
