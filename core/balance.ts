// Client-side balancing over the replicas of a service. Web-standard (the gateway uses it too): a
// service's address is a comma-separated list of base URLs; calls go round-robin over the addresses
// that are not resting after a connection failure, and a failed address is retried after a pause.
// Long-lived HTTP/2 connections defeat connection-level balancing (kube-proxy), hence doing it here.

import { backoffDelay } from "./backoff.ts";

/** "http://a:1, http://b:1" → ["http://a:1", "http://b:1"] (trailing slashes dropped). */
export function splitUrls(list: string): string[] {
  const urls = list
    .split(",")
    .map((s) => s.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  if (urls.length === 0) throw new Error(`no service address in "${list}"`);
  for (const u of urls) {
    const parsed = new URL(u);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new Error(`service address "${u}" must be an http:// or https:// URL`);
  }
  return urls;
}

export interface AddressPoolOptions {
  /** How long an address that refused a connection is left out (ms). */
  restMs?: number;
  now?: () => number;
}

/** Round-robin over addresses, skipping the ones resting after a failure (unless all are). */
export class AddressPool {
  #addresses: string[];
  #next = 0;
  readonly #restingUntil = new Map<string, number>();
  readonly #restMs: number;
  readonly #now: () => number;

  constructor(addresses: string[], opts: AddressPoolOptions = {}) {
    if (addresses.length === 0) throw new Error("an address pool needs at least one address");
    this.#addresses = addresses;
    this.#restMs = opts.restMs ?? 5_000;
    this.#now = opts.now ?? Date.now;
  }

  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /** Replaces the addresses (a DNS refresh); resting marks of addresses still present are kept. */
  set(addresses: string[]): void {
    if (addresses.length === 0) return;
    this.#addresses = addresses;
    for (const a of this.#restingUntil.keys()) if (!addresses.includes(a)) this.#restingUntil.delete(a);
  }

  /** The next address; when every address is resting, the one whose rest ends first. */
  pick(avoid?: string): string {
    const n = this.#addresses.length;
    const now = this.#now();
    let fallback: string | undefined;
    let fallbackUntil = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const a = this.#addresses[(this.#next + i) % n] as string;
      const until = this.#restingUntil.get(a) ?? 0;
      if (until <= now && a !== avoid) {
        this.#next = (this.#next + i + 1) % n;
        return a;
      }
      if (until < fallbackUntil && (a !== avoid || n === 1)) {
        fallback = a;
        fallbackUntil = until;
      }
    }
    return fallback ?? (this.#addresses[0] as string);
  }

  /** Leaves `address` out for a while (it refused a connection or is draining). */
  rest(address: string): void {
    this.#restingUntil.set(address, this.#now() + this.#restMs);
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** First pause (ms); doubled each retry, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** The pause before retry number `retry` (0-based): exponential with full jitter. */
export const backoffMs = (retry: number, opts: RetryOptions = {}): number =>
  backoffDelay(retry, { baseMs: opts.baseDelayMs ?? 50, maxMs: opts.maxDelayMs ?? 2_000, jitter: "full" });

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** Largest request body kept, as it streams by, so that the request can be re-sent to another replica. */
const REPLAYABLE_BYTES = 1 << 20;

export interface SendOptions {
  /**
   * A body of known length up to 1 MiB (every unary RPC) is kept as it streams to the replica, for a
   * re-send to another one; nothing is ever read ahead of the replica. False when the caller has not
   * authenticated whoever sends the body: then it is not kept, and the request not re-sent once its body
   * went out.
   */
  replayable?: boolean;
}

/** Sends requests to a service: its replicas over the network, or the service in process. */
export type UpstreamFetch = (req: Request, opts?: SendOptions) => Promise<Response>;

/**
 * A body read once from its source and kept as it goes: each `stream()` gives the whole body again, the
 * kept chunks first, then (in turn with the other streams) the rest from the source.
 */
class ReplayableBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #chunks: Uint8Array[] = [];
  #done = false;
  #reading: Promise<void> | undefined;
  /** The source failed (the client's side): no replica is to blame. */
  failed = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** Reads one more chunk from the source (one read at a time, whichever stream asks). */
  #more(): Promise<void> {
    this.#reading ??= this.#reader.read().then(
      (r) => {
        this.#reading = undefined;
        if (r.done) this.#done = true;
        else this.#chunks.push(r.value);
      },
      (err) => {
        this.#reading = undefined;
        this.failed = true;
        throw err;
      },
    );
    return this.#reading;
  }

  stream(): ReadableStream<Uint8Array> {
    let next = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (c) => {
          while (next >= this.#chunks.length && !this.#done) await this.#more();
          const chunk = this.#chunks[next++];
          if (chunk) c.enqueue(chunk);
          else c.close();
        },
      },
      { highWaterMark: 0 },
    );
  }

  cancel(reason: unknown): void {
    this.#reader.cancel(reason).catch(() => undefined);
  }
}

/**
 * A fetch over the replicas in `pool`: the request's origin is replaced by a picked address. A request
 * that could not reach a replica (a network error) goes to another one, with backoff, when it can be sent
 * again: it has no body, or a body of known length up to 1 MiB that SendOptions lets it keep. Bodies
 * stream to the replica as they arrive; nothing is buffered before a replica is contacted. Larger or
 * unknown-length bodies (uploads) are not retried here; clients retry a part, and the resting mark sends
 * the retry elsewhere.
 */
export function balancedFetch(
  pool: AddressPool,
  opts: RetryOptions & { fetch?: (req: Request) => Promise<Response> } = {},
): UpstreamFetch {
  const send = opts.fetch ?? ((req: Request) => fetch(req));
  const attempts = Math.max(1, opts.attempts ?? 3);
  return async (req, sendOpts) => {
    const url = new URL(req.url);
    const path = url.pathname + url.search;
    const length = Number(req.headers.get("content-length") ?? Number.NaN);
    const kept =
      req.body !== null &&
      sendOpts?.replayable !== false &&
      Number.isFinite(length) &&
      length <= REPLAYABLE_BYTES
        ? new ReplayableBody(req.body)
        : undefined;
    const replayable = req.body === null || kept !== undefined;
    let last: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const base = pool.pick(last);
      try {
        return await send(
          new Request(base + path, {
            method: req.method,
            headers: req.headers,
            body: kept ? kept.stream() : req.body,
            signal: req.signal,
            redirect: "manual",
            duplex: "half",
          } as RequestInit),
        );
      } catch (err) {
        // An abort by the caller, or a body that failed on the caller's side, is not the replica's fault.
        if (req.signal.aborted || kept?.failed) {
          kept?.cancel(err);
          throw err;
        }
        pool.rest(base);
        last = base;
        if (!replayable || attempt + 1 >= attempts) {
          kept?.cancel(err);
          throw err;
        }
        await sleep(backoffMs(attempt, opts), req.signal);
      }
    }
  };
}
