// The event bus of the all-in-one process: the last `retain` events of each topic in memory. Ids are
// "<start>-<n>" with the process's start time first, so a cursor from before a restart is recognised as
// lost (reload) rather than taken for one of this process's events.
import { Fanout } from "./fanout.ts";
import { type BusEvent, compareIds, type Delivery, type EventBus, type Topic } from "./types.ts";

interface Retained {
  events: BusEvent[];
  /** The newest event dropped to keep `retain` (a cursor before it has lost events). */
  droppedUpTo: string;
  fanout: Fanout;
}

export function memoryBus(opts: { retain: number; maxQueued?: number }): EventBus {
  const epoch = String(Date.now());
  let seq = 0;
  const topics = new Map<Topic, Retained>();
  const topic = (t: Topic): Retained => {
    let r = topics.get(t);
    if (!r) {
      r = { events: [], droppedUpTo: "", fanout: new Fanout(opts.maxQueued) };
      topics.set(t, r);
    }
    return r;
  };
  const newest = (r: Retained) => r.events.at(-1)?.id ?? `${epoch}-${seq}`;

  async function* catchUp(r: Retained, after: string): AsyncGenerator<Delivery> {
    const ours = after.split("-")[0] === epoch;
    if (!ours || (r.droppedUpTo && compareIds(after, r.droppedUpTo) < 0)) {
      yield { reload: true, id: newest(r) };
      return;
    }
    // Ids increase along the array: the first one after the cursor, by bisection.
    let lo = 0;
    let hi = r.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds((r.events[mid] as BusEvent).id, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    for (const e of r.events.slice(lo)) yield e;
  }

  return {
    async publish(t, body) {
      const r = topic(t);
      const e = { id: `${epoch}-${++seq}`, body };
      r.events.push(e);
      // Drop in chunks (a shift per event would copy the array each time).
      if (r.events.length > opts.retain + Math.max(1, opts.retain >> 4)) {
        const dropped = r.events.splice(0, r.events.length - opts.retain);
        r.droppedUpTo = (dropped.at(-1) as BusEvent).id;
      }
      r.fanout.deliver(e);
      return e.id;
    },
    subscribe(t, after, signal) {
      const r = topic(t);
      return r.fanout.follow(after ? catchUp(r, after) : undefined, signal);
    },
    ready: async () => {},
    pending: () => 0,
    async close() {},
  };
}
