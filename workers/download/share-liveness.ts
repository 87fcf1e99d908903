// The share liveness cache: a shared file's download target as meta last answered it for a share link
// (the link answered, held the file, and its expiry), kept so that the many range requests of one
// download do not each ask meta (issue 18's bench: the one per-request cost left on a share's path).
//
// The rule it keeps: a revoked, edited or expired link, a target gone and an owner disabled stop the next
// range at once, on every replica. So an entry
//   - is dropped by every event that may change the answer, from any replica: topic "links" (a share
//     revoked or edited, a file's signed links revoked, an owner disabled or deleted) and topic "files"
//     (the owner's entries moved, trashed, purged or given new content), both keyed by the owner;
//   - is never used past the link's expiry, checked here against this process's clock;
//   - lives at most `ttlMs` (DOWNLOAD_LOOKUP_CACHE_MS): the bound should an event be lost (the bus down
//     or lagging, a process that died before publishing); a reload signal (events lost) drops everything;
//   - is stored only if no event arrived while meta was being asked (the epoch): an answer read before a
//     revoke whose event came back first would otherwise outlive the revoke.
import { ExpiringCache } from "../../core/cache.ts";
import { decodeLinkEvent, fileEventKey } from "../lib/bus/events.ts";
import type { EventBus, Topic } from "../lib/bus/types.ts";
import type { Logger } from "../lib/log.ts";

/** Which share download: the link, the file and (for a version's URL) the version. */
export interface ShareKey {
  shareId: string;
  fileId: string;
  versionId?: string;
}

interface Live<T> {
  target: T;
  /** The link's expiry, epoch ms (Infinity: none). */
  expiresAt: number;
}

const keyOf = (k: ShareKey) => `${k.shareId}/${k.fileId}/${k.versionId ?? ""}`;

export class LiveShares<T> {
  private readonly entries: ExpiringCache<string, Live<T>>;
  /** Moves on every event that drops entries: an answer asked for before it is not stored. */
  private epochNow = 0;
  /** The meta calls under way, by key, with the epoch each was asked at. */
  private readonly flights = new Map<string, { epoch: number; answer: Promise<unknown> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    maxEntries = 10_000,
  ) {
    this.entries = new ExpiringCache(maxEntries, now);
  }

  /** The target while the link is known live (not expired by this clock, no event since); else undefined. */
  get(key: ShareKey): T | undefined {
    const e = this.entries.get(keyOf(key));
    if (!e) return undefined;
    if (e.expiresAt > this.now()) return e.target;
    this.entries.delete(keyOf(key));
    return undefined;
  }

  /** Taken before asking meta; passed to set() with its answer. */
  epoch(): number {
    return this.epochNow;
  }

  /**
   * Keeps meta's answer (the link was live, owned by `ownerId`, expiring at `expiresAtMs`, 0: never) unless
   * an event arrived since `epoch` (the answer may predate it).
   */
  set(key: ShareKey, ownerId: string, target: T, expiresAtMs: number, epoch: number): void {
    if (epoch !== this.epochNow || this.ttlMs <= 0) return;
    const expiresAt = expiresAtMs > 0 ? expiresAtMs : Number.POSITIVE_INFINITY;
    this.entries.set(keyOf(key), { target, expiresAt }, this.now() + this.ttlMs, ownerId);
  }

  /**
   * `ask(epoch)`'s answer, shared with the requests for the same key that come while it is under way, as
   * long as no event arrived since it was asked (a request after a revoke's event never gets an answer
   * read before it).
   */
  shared<R>(key: ShareKey, ask: (epoch: number) => Promise<R>): Promise<R> {
    const k = keyOf(key);
    const under = this.flights.get(k);
    if (under && under.epoch === this.epochNow) return under.answer as Promise<R>;
    const epoch = this.epochNow;
    const answer: Promise<R> = ask(epoch).finally(() => {
      if (this.flights.get(k)?.answer === answer) this.flights.delete(k);
    });
    this.flights.set(k, { epoch, answer });
    return answer;
  }

  /** Drops every entry of the owner's links (an event about the owner, a link or a file of theirs). */
  dropOwner(ownerId: string): void {
    this.epochNow++;
    this.entries.deleteTag(ownerId);
  }

  /** Drops everything (events were lost). */
  clear(): void {
    this.epochNow++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The owner an event of a topic is about; "" when the body says none (then everything is dropped). */
const ownerOf: Partial<Record<Topic, (body: string) => string>> = {
  links: (body) => decodeLinkEvent(body)?.ownerId ?? "",
  files: (body) => fileEventKey(body)?.ownerId ?? "",
};

/**
 * Follows topics "links" and "files" until `signal` aborts, dropping what each event may have changed.
 * Resolves once both subscriptions are open (`bus.ready`): a replica should not serve from the cache before.
 */
export async function followShareEvents(
  bus: EventBus,
  shares: LiveShares<unknown>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const follow = async (topic: "links" | "files") => {
    try {
      for await (const d of bus.subscribe(topic, "", signal)) {
        const owner = d.reload ? "" : (ownerOf[topic]?.(d.body) ?? "");
        if (owner) shares.dropOwner(owner);
        else shares.clear();
      }
    } catch (err) {
      if (!signal.aborted)
        log.error(`following ${topic} events failed: the share cache relies on its expiry`, {
          err: String(err),
        });
    }
  };
  void follow("links");
  void follow("files");
  await Promise.all([bus.ready("links"), bus.ready("files")]);
}
