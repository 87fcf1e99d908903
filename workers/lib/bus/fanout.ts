// One topic's events handed to the subscribers in this process: each has a queue of its own, so one
// connection to the bus (one reader per topic) serves any number of watchers. A subscriber that falls
// too far behind loses its queue for a reload signal instead of holding memory without bound.
import { compareIds, type Delivery } from "./types.ts";

/** Events one subscriber may have waiting before it is told to reload instead. */
export const MAX_QUEUED = 10_000;

interface Listener {
  queue: Delivery[];
  wake?: () => void;
}

export class Fanout {
  readonly #listeners = new Set<Listener>();

  constructor(private readonly maxQueued = MAX_QUEUED) {}

  /** Hands `d` to every subscriber. */
  deliver(d: Delivery): void {
    for (const l of this.#listeners) {
      if (l.queue.length >= this.maxQueued) l.queue = [{ reload: true, id: d.id }];
      else l.queue.push(d);
      l.wake?.();
    }
  }

  /** Subscribers here now. */
  size(): number {
    return this.#listeners.size;
  }

  /**
   * The events of `catchUp` (those after the cursor, read from what the bus retains), then the live ones
   * that come after them, until `signal` aborts. Live events are collected from this call on (not from
   * the first read), so none falls between the two.
   */
  follow(catchUp: AsyncIterable<Delivery> | undefined, signal: AbortSignal): AsyncGenerator<Delivery> {
    const l: Listener = { queue: [] };
    this.#listeners.add(l);
    const onAbort = () => {
      this.#listeners.delete(l);
      l.wake?.();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    return this.#run(l, catchUp, signal, onAbort);
  }

  async *#run(
    l: Listener,
    catchUp: AsyncIterable<Delivery> | undefined,
    signal: AbortSignal,
    end: () => void,
  ) {
    try {
      let last = "";
      if (catchUp)
        for await (const d of catchUp) {
          if (signal.aborted) return;
          last = d.id;
          yield d;
        }
      while (!signal.aborted) {
        const next = l.queue.shift();
        if (next) {
          // Caught up already (the catch-up read past where the live feed was).
          if (last && !next.reload && compareIds(next.id, last) <= 0) continue;
          last = "";
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          l.wake = resolve;
        });
        l.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", end);
      end();
    }
  }
}
