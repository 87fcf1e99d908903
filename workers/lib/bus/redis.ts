// The event bus of the services mode: one Redis stream per topic, `<prefix>events:<topic>`, trimmed to
// about `retain` entries (XADD MAXLEN ~), each entry one field `b` (the body); its stream id is the
// event's id and a subscriber's cursor.
// Publishing: a pump sends this process's events in order through a script that skips an event already
// added (the publisher's last sequence number is kept beside the stream), so resending after a lost reply
// never adds one twice; while Redis is unreachable the events wait here and go out once it is back.
// Subscribing: one reader per topic per process follows the stream (XREAD BLOCK on a connection of its
// own) and hands events to the local subscribers (fanout.ts); a subscriber with a cursor first catches up
// from the stream. Every read checks, in the same script, that the cursor's own entry is still there:
// entries leave a stream only from its head (trimming), so if the cursor's entry is there, everything
// after it is too; if it is gone (trimmed, or Redis restarted without its data) the reader says reload.
// Redis must keep its data over a restart (appendonly) for a restart to lose nothing.
import Redis from "ioredis";
import type { Logger } from "../log.ts";
import { Fanout } from "./fanout.ts";
import { type BusEvent, type Delivery, type EventBus, TOPICS, type Topic } from "./types.ts";

// KEYS: stream, publisher's key. ARGV: retain, sequence number, body. The id, or false when added already.
const PUBLISH = `local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) <= last then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'b', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', 86400000)
return id`;

// KEYS: stream. ARGV: cursor ('0-0': from the start), count. {'ok', entries} or {'gap', newest id}.
const READ = `if ARGV[1] ~= '0-0' and #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #last == 0 then return {'gap', '0-0'} end
  return {'gap', last[1][1]}
end
return {'ok', redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))}`;

type BusRedis = Redis & {
  busPublish(
    stream: string,
    publisher: string,
    retain: number,
    seq: number,
    body: string,
  ): Promise<string | null>;
  busRead(stream: string, cursor: string, count: number): Promise<[string, unknown]>;
};

const READ_COUNT = 500;
const BLOCK_MS = 5000;
const RETRY_MAX_MS = 2000;

interface Outgoing {
  topic: Topic;
  body: string;
  seq: number;
  resolve: (id: string) => void;
}

const OPTIONS = {
  // Commands fail at once while Redis is down (the pump and the readers retry on their own), and one whose
  // reply was lost is not sent again by the client (the pump resends it, and the script skips a duplicate).
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  connectTimeout: 2000,
};

function withScripts(redis: Redis): BusRedis {
  redis.defineCommand("busPublish", { numberOfKeys: 2, lua: PUBLISH });
  redis.defineCommand("busRead", { numberOfKeys: 1, lua: READ });
  return redis as BusRedis;
}

function eventsOf(raw: unknown): BusEvent[] {
  return (raw as [string, string[]][]).map(([id, fields]) => {
    const at = fields.indexOf("b");
    return { id, body: at >= 0 ? (fields[at + 1] ?? "") : "" };
  });
}

export function redisBus(opts: { url: string; prefix: string; retain: number; log: Logger }): EventBus {
  const { log, retain } = opts;
  const cmd = withScripts(new Redis(opts.url, OPTIONS));
  const key = (t: Topic) => `${opts.prefix}events:${t}`;
  const publisherKey = `${opts.prefix}events:publisher:${crypto.randomUUID()}`;
  let closed = false;
  let down = false;
  const outage = (what: string, err: unknown) => {
    if (!down) log.warn(`event bus: ${what} failed; retrying`, { err: String(err) });
    down = true;
  };
  cmd.on("error", () => {}); // reported by outage() when a command fails
  cmd.on("ready", () => {
    if (down) log.info("event bus: Redis reachable again");
    down = false;
  });
  const stopped = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      stopped.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });

  const publisher = outbox({
    send: (e) => cmd.busPublish(key(e.topic), publisherKey, retain, e.seq, e.body),
    stopped: () => closed,
    outage,
    pause,
  });

  // --- reading ---
  async function read(t: Topic, cursor: string): Promise<{ gap?: string; events: BusEvent[] }> {
    const [kind, value] = await cmd.busRead(key(t), cursor, READ_COUNT);
    return kind === "gap" ? { gap: String(value), events: [] } : { events: eventsOf(value) };
  }

  /** Reads until it succeeds (or the bus closes / `signal` aborts: undefined). */
  async function readRetrying(t: Topic, cursor: string, signal?: AbortSignal) {
    for (let wait = 50; !closed && !signal?.aborted; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        return await read(t, cursor);
      } catch (err) {
        outage("reading", err);
        await pause(wait);
      }
    }
    return undefined;
  }

  async function* catchUp(t: Topic, after: string, signal: AbortSignal): AsyncGenerator<Delivery> {
    let cursor = after;
    for (;;) {
      const r = await readRetrying(t, cursor, signal);
      if (!r) return;
      if (r.gap) {
        yield { reload: true, id: r.gap };
        return;
      }
      for (const e of r.events) yield e;
      if (r.events.length < READ_COUNT) return;
      cursor = (r.events.at(-1) as BusEvent).id;
    }
  }

  const readers = new Map<Topic, { fanout: Fanout; ready: Promise<void> }>();
  const reader = (t: Topic) => {
    let r = readers.get(t);
    if (!r) {
      const fanout = new Fanout();
      r = { fanout, ready: new Promise<void>((resolve) => void follow(t, fanout, resolve)) };
      readers.set(t, r);
    }
    return r;
  };
  const blockers: Redis[] = [];

  /** Follows topic `t` for this process from its newest event on, handing each to `fanout`. */
  async function follow(t: Topic, fanout: Fanout, ready: () => void) {
    const blocker = new Redis(opts.url, { ...OPTIONS, connectionName: "events-reader" });
    blocker.on("error", () => {});
    blockers.push(blocker);
    let cursor: string | undefined;
    for (let wait = 50; !closed; ) {
      try {
        if (cursor === undefined) {
          const newest = await cmd.xrevrange(key(t), "+", "-", "COUNT", 1);
          cursor = newest[0]?.[0] ?? "0-0";
          ready();
        }
        const r = await read(t, cursor);
        wait = 50;
        if (r.gap) {
          cursor = r.gap;
          fanout.deliver({ reload: true, id: r.gap });
          continue;
        }
        for (const e of r.events) fanout.deliver(e);
        cursor = r.events.at(-1)?.id ?? cursor;
        // Nothing new: wait for the next entry (or BLOCK_MS), then read it with the check above.
        if (r.events.length === 0)
          await blocker.xread("COUNT", 1, "BLOCK", BLOCK_MS, "STREAMS", key(t), cursor);
      } catch (err) {
        if (closed) return;
        outage("reading", err);
        await pause(wait);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  return {
    publish(topic, body) {
      if (!TOPICS.includes(topic)) throw new Error(`no such topic: ${topic}`);
      return publisher.add(topic, body);
    },
    subscribe(t, after, signal) {
      return reader(t).fanout.follow(after ? catchUp(t, after, signal) : undefined, signal);
    },
    ready: (t) => reader(t).ready,
    pending: publisher.pending,
    async close() {
      closed = true;
      stopped.abort();
      if (publisher.pending() > 0)
        log.warn("event bus closed with events not sent", { events: publisher.pending() });
      for (const b of blockers) b.disconnect();
      await cmd.quit().catch(() => cmd.disconnect());
    },
  };
}

/**
 * This process's events waiting for Redis, sent in order by one pump at a time: one connection runs them
 * in order, so when one fails those after it were not run either, or (reply lost) were run and are
 * skipped by the script when sent again.
 */
function outbox(io: {
  send(e: Outgoing): Promise<string | null>;
  stopped(): boolean;
  outage(what: string, err: unknown): void;
  pause(ms: number): Promise<void>;
}) {
  const waiting: Outgoing[] = [];
  let seq = 0;
  let pumping = false;
  async function pump() {
    if (pumping) return;
    pumping = true;
    let wait = 50;
    while (waiting.length > 0 && !io.stopped()) {
      const batch = waiting.slice(0, 200);
      const sent = batch.map((e) => io.send(e));
      let done = 0;
      try {
        for (const p of sent) {
          (batch[done] as Outgoing).resolve((await p) ?? "");
          done++;
        }
        wait = 50;
      } catch (err) {
        io.outage("publishing", err);
        await Promise.allSettled(sent);
        await io.pause(wait);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
      waiting.splice(0, done);
    }
    pumping = false;
  }
  return {
    add(topic: Topic, body: string): Promise<string> {
      return new Promise<string>((resolve) => {
        waiting.push({ topic, body, seq: ++seq, resolve });
        void pump();
      });
    },
    pending: () => waiting.length,
  };
}
