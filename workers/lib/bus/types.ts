// The event bus: facts about changes that already committed (files, uploads, blobs, links, transfers),
// told to whoever listens, in order, with an id per event that a listener can resume from. Redis Streams
// in services mode (redis.ts), this process's memory in all-in-one (memory.ts); the same interface.
//   - publish(): after the change committed, never before (a change that rolled back is never told).
//     It does not wait for the bus: events are sent in order by a background pump that retries while
//     the bus is unreachable, so a request never fails or waits because Redis is down.
//   - subscribe(): the topic's events after a cursor (an event id), or from now on; when the events after
//     the cursor are no longer all retained (trimmed, or the bus lost its data) it yields one
//     `{ reload: true }` and goes on from the newest event: the listener reloads its state from the
//     source of truth (the database), then keeps following.
// The database stays the source of truth; the bus makes changes visible at once instead of on a poll.

/** The streams of events. */
export type Topic = "files" | "uploads" | "blobs" | "links" | "transfers";

export const TOPICS: readonly Topic[] = ["files", "uploads", "blobs", "links", "transfers"];

/** One event as a subscriber receives it: its id (a cursor to resume after) and its body (JSON). */
export interface BusEvent {
  id: string;
  body: string;
}

/** What a subscription yields: an event, or the signal that events after the cursor were lost. */
export type Delivery = ({ reload?: false } & BusEvent) | { reload: true; id: string };

export interface EventBus {
  /** Sends `body` on `topic` (in this process's publishing order); resolves with its id once it is on the bus. */
  publish(topic: Topic, body: string): Promise<string>;
  /**
   * The events of `topic` after the event `after` (from now on when empty), until `signal` aborts.
   * Yields `{ reload: true }` when some after `after` are gone, then the events after the newest.
   */
  subscribe(topic: Topic, after: string, signal: AbortSignal): AsyncIterable<Delivery>;
  /**
   * Resolves once this process follows `topic`: a subscription from now on sees every event published
   * after that (the first subscription to a topic starts following it).
   */
  ready(topic: Topic): Promise<void>;
  /** Events published but not on the bus yet (waiting for it to come back). */
  pending(): number;
  /** Stops the pump and the readers; events still pending are dropped (they are logged). */
  close(): Promise<void>;
}

/** Stream ids "<ms>-<seq>", compared as numbers (a newer event has the greater id). */
export function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split("-").map((p) => BigInt(p || 0));
  const [bm = 0n, bs = 0n] = b.split("-").map((p) => BigInt(p || 0));
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/** Whether `id` looks like an event id (what a client may pass back as a cursor). */
export const isEventId = (id: string): boolean => /^\d{1,20}-\d{1,20}$/.test(id);
