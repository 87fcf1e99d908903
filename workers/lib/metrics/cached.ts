// Figures that cost a query (storage totals, transfer job counts) read at most every `maxAgeMs`, in the
// background: a scrape takes the last value and never waits for, or causes more than, one query per period.
// Until the first read succeeds the value is undefined (the series are absent, not zero).

export interface CachedReader<T> {
  /** The last value read; starts a new read when it is older than maxAgeMs and none is running. */
  get(): T | undefined;
  /** Resolves when the read in progress (if any) is over: tests, and the first scrape of a bench. */
  settled(): Promise<void>;
}

export function cachedReader<T>(
  read: () => Promise<T>,
  maxAgeMs: number,
  onError: (err: unknown) => void = () => {},
  now: () => number = Date.now,
): CachedReader<T> {
  let value: T | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  const refresh = () => {
    readAt = now(); // a failed read is not retried before the next period either
    running = read()
      .then((v) => {
        value = v;
      })
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  return {
    get() {
      if (!running && now() - readAt >= maxAgeMs) refresh();
      return value;
    },
    async settled() {
      await running;
    },
  };
}
