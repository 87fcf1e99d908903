// A bounded in-memory cache with a per-entry expiry. Web-standard (the gateway uses it through
// access-token.ts). Eviction is FIFO by insertion: cheap, and good enough for hot-key caches. An entry may
// carry a tag (the download worker's: the file's owner), so that everything of one tag can be dropped at
// once when an event says it changed.
interface Entry<V> {
  value: V;
  until: number;
  tag?: string;
}

export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly tagged = new Map<string, Set<K>>();
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

  /** Keeps `value` until the epoch-millisecond time `until`, under `tag` when given (see deleteTag). */
  set(key: K, value: V, until: number, tag?: string): void {
    this.delete(key);
    if (this.entries.size >= this.maxEntries) this.delete(this.entries.keys().next().value as K);
    this.entries.set(key, { value, until, tag });
    if (tag === undefined) return;
    const keys = this.tagged.get(tag) ?? new Set<K>();
    this.tagged.set(tag, keys);
    keys.add(key);
  }

  delete(key: K): void {
    this.forgetLast();
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    if (e.tag === undefined) return;
    const keys = this.tagged.get(e.tag);
    keys?.delete(key);
    if (keys?.size === 0) this.tagged.delete(e.tag);
  }

  /** Drops every entry set under `tag`. */
  deleteTag(tag: string): void {
    for (const key of [...(this.tagged.get(tag) ?? [])]) this.delete(key);
  }

  /** Drops every entry. */
  clear(): void {
    this.forgetLast();
    this.entries.clear();
    this.tagged.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private forgetLast(): void {
    this.lastKey = undefined;
    this.last = undefined;
  }
}
