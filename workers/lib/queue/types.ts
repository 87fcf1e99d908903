// A job queue with at-least-once delivery, one interface over two implementations: Redis Streams with a
// consumer group (services mode, shared by replicas) and a SQLite file (all-in-one). Semantics, the same
// for both (one test suite runs against both):
//   - publish() adds a message; receive() hands it to one consumer. A message is done when acked.
//   - A delivered message that is neither acked, failed nor touched within `visibilityMs` is delivered
//     again (its consumer died); that counts as an attempt.
//   - fail() schedules the next attempt after an exponential backoff with jitter, until the message's
//     budget is spent — `retryForMs` since its first attempt and/or `maxAttempts` attempts — and then
//     makes it a dead letter (kept with its last error and cause) instead; a permanent failure at once.
//   - retryDead() puts a dead letter back, its attempts and budget reset.
// Every attempt of a handler must be idempotent: a message may be delivered twice.

import { backoffDelay } from "../../../core/backoff.ts";

export interface QueueOptions {
  /** A delivered message that is not acked, failed or touched for this long is delivered again. */
  visibilityMs: number;
  /** Deliveries before a failing message becomes a dead letter; 0 or unset: no limit by count. */
  maxAttempts?: number;
  /**
   * How long after its first attempt a failing message is still retried; unset: no limit by time. (With
   * neither limit a message is retried until it succeeds or fails permanently.)
   */
  retryForMs?: number;
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
  /**
   * The W3C traceparent of the work that made the job, when it was traced: its consumer's span joins
   * that trace. "" when none.
   */
  trace: string;
  /** 1 for the first delivery. */
  attempt: number;
  /** When its first attempt started (epoch ms): the time budget counts from there. */
  firstAttemptAt: number;
  /** The consumer holding it: only that consumer's ack, touch or fail counts. */
  consumer: string;
}

export interface DeadLetter {
  id: string;
  key: string;
  body: string;
  attempts: number;
  error: string;
  /** What the consumer said caused the last failure (FailOptions.cause); "" when it said nothing. */
  cause: string;
  /** Epoch ms. */
  failedAt: number;
}

export interface FailOptions {
  /** Retrying cannot help (the input is bad or gone): a dead letter at once. */
  permanent?: boolean;
  /**
   * A short machine-readable cause kept with a dead letter, so that a consumer can re-drive the ones
   * whose cause went away (the transfer worker: S3 unreachable).
   */
  cause?: string;
}

export interface Queue {
  readonly options: QueueOptions;
  /** `trace`: the traceparent that travels with the message (Message.trace). */
  publish(key: string, body: string, trace?: string): Promise<void>;
  /** Up to `max` messages for `consumer`, waiting up to `waitMs` when none is ready. */
  receive(consumer: string, max: number, waitMs: number): Promise<Message[]>;
  ack(msg: Message): Promise<void>;
  /** Renews the message's visibility (a long job is still running). */
  touch(msg: Message): Promise<void>;
  /** A failed attempt: retried after a backoff, or a dead letter once its budget is spent. */
  fail(msg: Message, error: string, opts?: FailOptions): Promise<"retry" | "dead">;
  /**
   * The oldest dead letters first, up to `limit`; `after` (the last one of the previous page) pages on.
   * Pages stay right while letters are retried between them.
   */
  deadLetters(limit: number, after?: Pick<DeadLetter, "id" | "failedAt">): Promise<DeadLetter[]>;
  /** Puts a dead letter back in the queue, attempts reset; false when there is no such dead letter. */
  retryDead(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The delay before attempt `attempt + 1`: base·2^(attempt−1), capped, then "equal jitter" (half to all). */
export const backoffMs = (options: QueueOptions, attempt: number): number =>
  Math.round(
    backoffDelay(attempt - 1, {
      baseMs: options.backoffBaseMs,
      maxMs: options.backoffMaxMs,
      jitter: "equal",
      random: options.random,
    }),
  );

/**
 * Whether a message may not be retried after attempt `attempt` (made first at `firstAttemptAt`) failed:
 * its attempts or its time are used up.
 */
export function budgetSpent(
  options: QueueOptions,
  attempt: number,
  firstAttemptAt: number,
  now: number,
): boolean {
  if (options.maxAttempts && attempt >= options.maxAttempts) return true;
  return options.retryForMs !== undefined && now - firstAttemptAt >= options.retryForMs;
}

/** Every dead letter, oldest first, a page at a time (complete however many there are). */
export async function* allDeadLetters(queue: Queue, pageSize = 1000): AsyncGenerator<DeadLetter> {
  let after: DeadLetter | undefined;
  for (;;) {
    const page = await queue.deadLetters(pageSize, after);
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1);
  }
}

/** The error text kept with a dead letter whose consumer stopped answering. */
export const TIMED_OUT = "the consumer stopped answering (crashed or hung) on its last attempt";
