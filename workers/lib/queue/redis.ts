// The queue of the services mode: a Redis stream read through one consumer group, shared by every
// replica. Keys (under the deployment's prefix):
//   q:<name>          the stream; a message's fields: key, body, attempts (made before this entry), since
//                     (when its first attempt started; absent before the first attempt), trace (the
//                     traceparent of the work that made it; absent when untraced)
//   q:<name>:delayed  sorted set of messages waiting out a backoff (score: when they are due)
//   q:<name>:dead     the dead-letter stream (key, body, attempts, error, cause, failedAt)
// receive() first moves due delayed messages back into the stream, then reclaims messages whose consumer
// went silent for visibilityMs (XPENDING IDLE + XCLAIM: the delivery count the group keeps is the attempt
// count), then reads new ones (XREADGROUP ... >). ack/fail check in one script that the caller still owns
// the message (it may have been reclaimed meanwhile), then XACK and XDEL it; fail moves it to the delayed
// set or to the dead letters in the same script, so a message is never lost between two keys.
// Redis is not the only copy of anything: whoever publishes keeps its own durable record (the transfer
// jobs table) and publishes again what seems lost.
import type Redis from "ioredis";
import {
  backoffMs,
  budgetSpent,
  type DeadLetter,
  type Message,
  type Queue,
  type QueueOptions,
  TIMED_OUT,
} from "./types.ts";

const GROUP = "workers";

/** Owner check shared by the scripts: the message is pending and held by ARGV[3]. */
const OWNED = `local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
`;

// KEYS: stream. ARGV: group, id, consumer.
const ACK = `${OWNED}redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`;

// KEYS: stream. ARGV: group, id, consumer. Resets the idle time without counting a delivery.
const TOUCH = `${OWNED}redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 1`;

// KEYS: stream, delayed, dead. ARGV: group, id, consumer, "retry"|"dead", due or failedAt, key, body,
// attempts, error, since, cause, trace.
const FAIL = `${OWNED}if ARGV[4] == 'dead' then
  redis.call('XADD', KEYS[3], '*', 'key', ARGV[6], 'body', ARGV[7], 'attempts', ARGV[8], 'error', ARGV[9],
    'cause', ARGV[11], 'failedAt', ARGV[5], 'trace', ARGV[12])
else
  redis.call('ZADD', KEYS[2], ARGV[5], cjson.encode({ARGV[2], ARGV[6], ARGV[7], ARGV[8], ARGV[10], ARGV[12]}))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`;

// KEYS: delayed, stream. ARGV: now, limit. Returns when the next delayed message is due (-1: none).
const PROMOTE = `local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local v = cjson.decode(m)
  redis.call('ZREM', KEYS[1], m)
  redis.call('XADD', KEYS[2], '*', 'key', v[2], 'body', v[3], 'attempts', v[4], 'since', v[5] or '',
    'trace', v[6] or '')
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nxt == 0 then return -1 end
return tonumber(nxt[2])`;

// KEYS: dead, stream. ARGV: id.
const REVIVE = `local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #e == 0 then return 0 end
local f = e[1][2]
local t = {}
for i = 1, #f, 2 do t[f[i]] = f[i + 1] end
redis.call('XADD', KEYS[2], '*', 'key', t.key, 'body', t.body, 'attempts', '0', 'trace', t.trace or '')
redis.call('XDEL', KEYS[1], ARGV[1])
return 1`;

type Entry = [id: string, fields: string[]];

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/** A delivery of `entry`; `reclaimed`: taken from a silent consumer (XCLAIM), else read new. */
function messageOf(
  entry: Entry,
  consumer: string,
  deliveries: number,
  reclaimed: boolean,
  now: () => number,
): Message {
  const f = fieldsOf(entry[1]);
  return {
    id: entry[0],
    key: f.key ?? "",
    body: f.body ?? "",
    trace: f.trace ?? "",
    attempt: Number(f.attempts ?? 0) + deliveries,
    // A stream entry cannot record its delivery, so until a failure carries `since` over: a new read
    // is the first attempt; a reclaimed one counts from when the entry was added (its id's time), which
    // bounds a consumer that keeps dying on it.
    firstAttemptAt: f.since ? Number(f.since) : reclaimed ? Number(entry[0].split("-")[0]) : now(),
    consumer,
  };
}

function deadLetterOf([id, flat]: Entry): DeadLetter {
  const f = fieldsOf(flat);
  return {
    id,
    key: f.key ?? "",
    body: f.body ?? "",
    attempts: Number(f.attempts ?? 0),
    error: f.error ?? "",
    cause: f.cause ?? "",
    failedAt: Number(f.failedAt ?? 0),
  };
}

interface Keys {
  stream: string;
  delayed: string;
  dead: string;
}

/** Ends a delivery the caller still owns: into the delayed set (retry) or the dead letters. */
async function finish(
  redis: Redis,
  keys: Keys,
  msg: Message,
  mode: "retry" | "dead",
  at: number,
  error: string,
  cause = "",
): Promise<void> {
  await redis.eval(
    FAIL,
    3,
    keys.stream,
    keys.delayed,
    keys.dead,
    GROUP,
    msg.id,
    msg.consumer,
    mode,
    String(at),
    msg.key,
    msg.body,
    String(msg.attempt),
    error,
    String(msg.firstAttemptAt),
    cause,
    msg.trace,
  );
}

const STREAM_ID = /^[0-9]+-[0-9]+$/;
/**
 * A blocked read wakes at least this often: messages of a silent consumer become due for reclaiming while
 * it blocks, and nothing announces that.
 */
const MAX_BLOCK_MS = 1000;

export async function openRedisQueue(
  redis: Redis,
  prefix: string,
  name: string,
  options: QueueOptions,
  now: () => number = Date.now,
): Promise<Queue> {
  const stream = `${prefix}q:${name}`;
  const delayed = `${stream}:delayed`;
  const deadKey = `${stream}:dead`;
  const keys: Keys = { stream, delayed, dead: deadKey };
  // XREADGROUP BLOCK holds its connection: it gets one of its own.
  const blocking = redis.duplicate();

  async function ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: messages published before the group existed are delivered too.
      await redis.call("XGROUP", "CREATE", stream, GROUP, "0", "MKSTREAM");
    } catch (err) {
      if (!String(err).includes("BUSYGROUP")) throw err;
    }
  }
  await ensureGroup();

  /** Messages whose consumer went silent: claimed for `consumer`, or buried after their last attempt. */
  async function reclaim(consumer: string, max: number): Promise<Message[]> {
    const pending = (await redis.call(
      "XPENDING",
      stream,
      GROUP,
      "IDLE",
      String(options.visibilityMs),
      "-",
      "+",
      String(max),
    )) as [string, string, number, number][];
    const out: Message[] = [];
    for (const [id, , , deliveries] of pending) {
      // The minimum idle time makes the claim fail if someone else claimed or touched it meanwhile.
      const claimed = (await redis.call(
        "XCLAIM",
        stream,
        GROUP,
        consumer,
        String(options.visibilityMs),
        id,
      )) as (Entry | null)[];
      const entry = claimed[0];
      if (!entry) continue;
      const msg = messageOf(entry, consumer, deliveries + 1, true, now);
      // attempt - 1 deliveries ended in silence: with the budget spent by then, that ends it.
      if (budgetSpent(options, msg.attempt - 1, msg.firstAttemptAt, now())) {
        await finish(redis, keys, { ...msg, attempt: msg.attempt - 1 }, "dead", now(), TIMED_OUT);
        continue;
      }
      out.push(msg);
    }
    return out;
  }

  async function readNew(consumer: string, max: number, waitMs: number): Promise<Message[]> {
    const args = ["GROUP", GROUP, consumer, "COUNT", String(max)];
    if (waitMs > 0) args.push("BLOCK", String(waitMs));
    const res = (await blocking.call("XREADGROUP", ...args, "STREAMS", stream, ">")) as
      | [string, Entry[]][]
      | null;
    return (res?.[0]?.[1] ?? []).map((e) => messageOf(e, consumer, 1, false, now));
  }

  return {
    options,
    async publish(key, body, trace = "") {
      await redis.call("XADD", stream, "*", "key", key, "body", body, "attempts", "0", "trace", trace);
    },
    async receive(consumer, max, waitMs) {
      const until = Date.now() + waitMs;
      for (;;) {
        try {
          const t = now();
          const nextDue = Number(await redis.eval(PROMOTE, 2, delayed, stream, String(t), "100"));
          const got = await reclaim(consumer, max);
          if (got.length >= max) return got;
          // Block no longer than until the next delayed message is due (it is not in the stream yet).
          let wait = got.length > 0 ? 0 : Math.min(until - Date.now(), MAX_BLOCK_MS);
          if (nextDue >= 0) wait = Math.min(wait, Math.max(1, nextDue - t));
          got.push(...(await readNew(consumer, max - got.length, Math.max(0, wait))));
          if (got.length > 0 || Date.now() >= until) return got;
        } catch (err) {
          // The stream or its group vanished (Redis lost its data): recreate; publishers republish.
          if (!String(err).includes("NOGROUP")) throw err;
          await ensureGroup();
          return [];
        }
      }
    },
    async ack(msg) {
      await redis.eval(ACK, 1, stream, GROUP, msg.id, msg.consumer);
    },
    async touch(msg) {
      await redis.eval(TOUCH, 1, stream, GROUP, msg.id, msg.consumer);
    },
    async fail(msg, error, opts = {}) {
      const t = now();
      if (opts.permanent || budgetSpent(options, msg.attempt, msg.firstAttemptAt, t)) {
        await finish(redis, keys, msg, "dead", t, error, opts.cause);
        return "dead";
      }
      await finish(redis, keys, msg, "retry", t + backoffMs(options, msg.attempt), error);
      return "retry";
    },
    async deadLetters(limit, after): Promise<DeadLetter[]> {
      // Stream ids grow with time: the id alone pages (exclusive start).
      const start = after && STREAM_ID.test(after.id) ? `(${after.id}` : "-";
      const entries = (await redis.call("XRANGE", deadKey, start, "+", "COUNT", String(limit))) as Entry[];
      return entries.map(deadLetterOf);
    },
    async retryDead(id) {
      if (!STREAM_ID.test(id)) return false;
      return (await redis.eval(REVIVE, 2, deadKey, stream, id)) === 1;
    },
    async close() {
      blocking.disconnect();
    },
  };
}
