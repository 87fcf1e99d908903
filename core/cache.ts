// A bounded in-memory cache with a per-entry expiry. Web-standard (the gateway uses it through
// access-token.ts). Eviction is FIFO by insertion: cheap, and good enough for hot-key caches.
interface Entry<V> {
  value: V;
  until: number;
}

export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  // The entry read last, checked before the map: the range requests of a download read the same token and
  // file entries over and over, and a key arrives as a fresh string (from a header) whose hash the map
  // must compute each time, ~0.5 µs for an access token. Comparing it with the last key is cheaper.
  private lastKey?: K;
  private last?: Entry<V>;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const e = this.last !== undefined && this.lastKey === key ? this.last : this.entries.get(key);
    if (!e) return undefined;
    if (e.until > this.now()) {
      this.lastKey = key;
      this.last = e;
      return e.value;
    }
    this.delete(key);
    return undefined;
  }

  /** Keeps `value` until the epoch-millisecond time `until`. */
  set(key: K, value: V, until: number): void {
    this.forgetLast();
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, { value, until });
  }

  delete(key: K): void {
    this.forgetLast();
    this.entries.delete(key);
  }

  private forgetLast(): void {
    this.lastKey = undefined;
    this.last = undefined;
  }
}
