// Bounded parallelism and retries for the data plane.
import { backoffDelay } from "../core/backoff.ts";
import { connectionProblem } from "./network.ts";

/** A counting semaphore: at most `limit` tasks run at once (shared by every file of one command). */
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((go) => this.queue.push(go));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/**
 * Runs `work` for every item through the limiter. After the first failure no new item starts; the
 * failure is thrown once the running ones have settled (so that no write outlives the call).
 */
export async function forEach<T>(
  items: T[],
  limiter: Limiter,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let failure: { err: unknown } | undefined;
  await Promise.all(
    items.map((item) =>
      limiter.run(async () => {
        if (failure) return;
        try {
          await work(item);
        } catch (err) {
          failure ??= { err };
        }
      }),
    ),
  );
  if (failure) throw failure.err;
}

/** An HTTP answer that was not what the data plane should send; transient ones are worth retrying. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }

  get transient(): boolean {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** The error for a failed data-plane response, with the server's own message when it sent one. */
export async function httpError(what: string, res: Response): Promise<HttpError> {
  const text = await res.text().catch(() => "");
  let detail = text.trim().slice(0, 300);
  try {
    const json = JSON.parse(text) as { message?: string };
    if (json.message) detail = json.message;
  } catch {
    // not JSON: keep the text
  }
  return new HttpError(`${what}: HTTP ${res.status}${detail ? `: ${detail}` : ""}`, res.status);
}

/** The connection failed (refused, reset, DNS): worth another try. */
export class NetworkError extends Error {}

/** fetch() whose connection failures are NetworkErrors. */
export async function request(url: URL | string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    const problem = connectionProblem(err) ?? (err instanceof Error ? err.message : String(err));
    throw new NetworkError(`cannot reach ${new URL(url).origin}: ${problem}`, { cause: err });
  }
}

/** RPCs are retried by the session's interceptor (network.ts), so only data-plane failures count here. */
const isTransient = (err: unknown) =>
  err instanceof NetworkError || (err instanceof HttpError && err.transient);

/** Retries a data-plane attempt that failed transiently (network error, 5xx, 429), with backoff. */
export async function withRetry<T>(attempt: () => Promise<T>, tries = 5, baseMs = 250): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries || !isTransient(err)) throw err;
      await Bun.sleep(backoffDelay(i - 1, { baseMs, maxMs: 8 * baseMs, jitter: "equal" }));
    }
  }
}
