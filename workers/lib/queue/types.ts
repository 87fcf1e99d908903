// A job queue with at-least-once delivery, one interface over two implementations: Redis Streams with a
// consumer group (services mode, shared by replicas) and a SQLite file (all-in-one). Semantics, the same
// for both (one test suite runs against both):
//   - publish() adds a message; receive() hands it to one consumer. A message is done when acked.
//   - A delivered message that is neither acked, failed nor touched within `visibilityMs` is delivered
//     again (its consumer died); that counts as an attempt.
//   - fail() schedules the next attempt after an exponential backoff with jitter; after `maxAttempts`
//     attempts the message becomes a dead letter (kept with its last error) instead.
//   - retryDead() puts a dead letter back, its attempts reset.
// Every attempt of a handler must be idempotent: a message may be delivered twice.

export interface QueueOptions {
  /** A delivered message that is not acked, failed or touched for this long is delivered again. */
  visibilityMs: number;
  /** Deliveries before a failing message becomes a dead letter. */
  maxAttempts: number;
  /** The delay after the first failed attempt; it doubles with each attempt, up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

export interface Message {
  /** This delivery's message id (a message keeps it until acked, failed or dead-lettered). */
  id: string;
  /** What the message is about (a blob's SHA-256 for transfer jobs). */
  key: string;
  body: string;
  /** 1 for the first delivery. */
  attempt: number;
  /** The consumer holding it: only that consumer's ack, touch or fail counts. */
  consumer: string;
}

export interface DeadLetter {
  id: string;
  key: string;
  body: string;
  attempts: number;
  error: string;
  /** Epoch ms. */
  failedAt: number;
}

export interface Queue {
  readonly options: QueueOptions;
  publish(key: string, body: string): Promise<void>;
  /** Up to `max` messages for `consumer`, waiting up to `waitMs` when none is ready. */
  receive(consumer: string, max: number, waitMs: number): Promise<Message[]>;
  ack(msg: Message): Promise<void>;
  /** Renews the message's visibility (a long job is still running). */
  touch(msg: Message): Promise<void>;
  /** A failed attempt: retried after a backoff, or a dead letter once the attempts are used up. */
  fail(msg: Message, error: string): Promise<"retry" | "dead">;
  /** The oldest dead letters first. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Puts a dead letter back in the queue, attempts reset; false when there is no such dead letter. */
  retryDead(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The delay before attempt `attempt + 1`: base·2^(attempt−1), capped, then "equal jitter" (half to all). */
export function backoffMs(options: QueueOptions, attempt: number): number {
  const cap = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  const random = options.random ?? Math.random;
  return Math.round(cap / 2 + (cap / 2) * random());
}

/** The error text kept with a dead letter whose consumer stopped answering. */
export const TIMED_OUT = "the consumer stopped answering (crashed or hung) on its last attempt";
