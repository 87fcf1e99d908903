// A watch stream's feed from one topic of the event bus (WatchFiles, WatchTransfers): the caller's cursor
// checked, the events after it picked and shaped into responses, each with its event id (what a client
// passes back to resume right after it), and the bus's "events after your cursor are gone" signal handed
// on as one `reload` response (read the state again), after which the feed goes on from the newest event.
import { invalidArgument } from "../errors.ts";
import { type Delivery, type EventBus, isEventId, type Topic } from "./types.ts";

/** A response of a feed: the picked event with its id, or the reload signal. */
export type FeedItem<T> = (T & { eventId: string; reload?: false }) | { reload: true; eventId: string };

/** The cursor a client sent: empty (from now on) or an event id; InvalidArgument otherwise. */
export function checkCursor(after: string): string {
  if (after && !isEventId(after))
    throw invalidArgument("after_event_id must be the event_id of a response (or empty: from now on)");
  return after;
}

/**
 * The events of `topic` after `after` that `pick` keeps (it answers the response's fields, or undefined
 * for an event not for this watcher or one it cannot read), until `signal` aborts. The subscription starts
 * with this call (not with the first read), so the caller may read the state it starts from in between.
 */
export function busFeed<T extends object>(
  bus: EventBus,
  topic: Topic,
  after: string,
  signal: AbortSignal,
  pick: (body: string) => T | undefined,
): AsyncGenerator<FeedItem<T>> {
  return shaped(bus.subscribe(topic, checkCursor(after), signal), pick);
}

async function* shaped<T extends object>(
  deliveries: AsyncIterable<Delivery>,
  pick: (body: string) => T | undefined,
): AsyncGenerator<FeedItem<T>> {
  for await (const d of deliveries) {
    if (d.reload) {
      yield { reload: true, eventId: d.id };
      continue;
    }
    const picked = pick(d.body);
    if (picked) yield { ...picked, eventId: d.id };
  }
}
