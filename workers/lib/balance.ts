// Client-side balancing over the replicas of a service. Web-standard (the gateway uses it too): a
// service's address is a comma-separated list of base URLs; calls go round-robin over the addresses
// that are not resting after a connection failure, and a failed address is retried after a pause.
// Long-lived HTTP/2 connections defeat connection-level balancing (kube-proxy), hence doing it here.

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
export function backoffMs(retry: number, opts: RetryOptions = {}): number {
  const base = opts.baseDelayMs ?? 50;
  const cap = opts.maxDelayMs ?? 2_000;
  return Math.random() * Math.min(cap, base * 2 ** retry);
}

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

/** Largest request body buffered so that the request can be re-sent to another replica. */
const REPLAYABLE_BYTES = 1 << 20;

/**
 * A fetch over the replicas in `pool`: the request's origin is replaced by a picked address. A request
 * that could not reach a replica (a network error: nothing was processed) goes to another one, with
 * backoff — when it can be re-sent: no body, or a body of known length up to 1 MiB (every unary RPC).
 * Streamed bodies (uploads) are not retried here; clients retry a part, and the resting mark sends the
 * retry elsewhere.
 */
export function balancedFetch(
  pool: AddressPool,
  opts: RetryOptions & { fetch?: (req: Request) => Promise<Response> } = {},
): (req: Request) => Promise<Response> {
  const send = opts.fetch ?? ((req: Request) => fetch(req));
  const attempts = Math.max(1, opts.attempts ?? 3);
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname + url.search;
    const length = Number(req.headers.get("content-length") ?? Number.NaN);
    const replayable = req.body === null || (Number.isFinite(length) && length <= REPLAYABLE_BYTES);
    const body = req.body === null ? undefined : replayable ? await req.arrayBuffer() : req.body;
    let last: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const base = pool.pick(last);
      try {
        return await send(
          new Request(base + path, {
            method: req.method,
            headers: req.headers,
            body,
            signal: req.signal,
            redirect: "manual",
            duplex: "half",
          } as RequestInit),
        );
      } catch (err) {
        // An abort by the caller is not the replica's fault.
        if (req.signal.aborted) throw err;
        pool.rest(base);
        last = base;
        if (!replayable || attempt + 1 >= attempts) throw err;
        await sleep(backoffMs(attempt, opts), req.signal);
      }
    }
  };
}
