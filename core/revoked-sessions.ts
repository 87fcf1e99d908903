// The sign-in sessions whose access tokens are refused (Signout, refresh-token replay): one set per process,
// read by every access-token check, refreshed about once a second from the source of truth (the
// revoked_sessions table, through meta; the gateway, which holds no internal secret, through
// AccountService.ListRevokedSessions). Web-standard: the gateway uses it too.
import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";

/** One read of the revocations: sessions with the time their revocation may be forgotten. */
export interface RevokedListing {
  /** The server's clock at the read (epoch ms). */
  now: number;
  sessions: { id: string; expiresAt: number }[];
}

/**
 * How far before the previous read each read looks again: a revocation is stamped when its transaction
 * starts and may commit a little later, and replicas' clocks differ. Re-reading a revocation is harmless.
 */
export const LOOKBACK_MS = 60_000;

export class RevokedSessions {
  /** Session id → when no access token of it can be valid anyway (epoch ms). */
  private readonly until = new Map<string, number>();
  private nextSince = 0;

  /** True when the session's access tokens are refused. On every request's path: a lookup, no allocation. */
  has(sid: string): boolean {
    return this.until.size !== 0 && this.until.has(sid);
  }

  get size(): number {
    return this.until.size;
  }

  /** Where the next read starts (epoch ms); 0 before the first one: every revocation still in force. */
  get since(): number {
    return this.nextSince;
  }

  add(id: string, expiresAt: number): void {
    const known = this.until.get(id);
    if (known === undefined || known < expiresAt) this.until.set(id, expiresAt);
  }

  /** Takes in a read, and forgets the sessions whose every access token has expired by the server's clock. */
  apply(listing: RevokedListing): void {
    for (const s of listing.sessions) this.add(s.id, s.expiresAt);
    for (const [id, expiresAt] of this.until) if (expiresAt <= listing.now) this.until.delete(id);
    this.nextSince = Math.max(1, listing.now - LOOKBACK_MS);
  }
}

/** What the poller reports: a Logger (workers/lib/log.ts) fits, and so does a console-backed object. */
export interface PollLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface PollOptions {
  /** Pause between the end of one read and the start of the next. */
  intervalMs: number;
  /** Reads the revocations at or after `since` (0: every one still in force). */
  list: (since: number, signal: AbortSignal) => Promise<RevokedListing>;
  log: PollLog;
  /** A read that takes longer is abandoned (the next one starts after the interval). */
  timeoutMs?: number;
}

export interface Poller {
  /** Settles when the first read has succeeded or failed. */
  first: Promise<void>;
  stop(): void;
}

/**
 * Keeps `set` current: a read at once, then one every intervalMs. While the source cannot be read the set
 * keeps what it knows (one warning, and one line when reads work again): refusing every token instead
 * would turn an outage of one service into an outage of all.
 */
export function pollRevokedSessions(set: RevokedSessions, opts: PollOptions): Poller {
  let stopped = false;
  let failing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settle: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const tick = async () => {
    try {
      set.apply(await opts.list(set.since, AbortSignal.timeout(opts.timeoutMs ?? 5_000)));
      if (failing) opts.log.info("revoked sessions are read again", { revoked: set.size });
      failing = false;
    } catch (err) {
      if (!failing) {
        opts.log.warn(
          "cannot read the revoked sessions; tokens of sessions ended since the last read are accepted until it works",
          { err: String(err) },
        );
      }
      failing = true;
    } finally {
      settle();
      if (!stopped) {
        timer = setTimeout(tick, opts.intervalMs);
        // Bun and Node: the poll must not keep a stopping process alive (Deno's timers are plain numbers).
        (timer as { unref?: () => void }).unref?.();
      }
    }
  };
  void tick();
  return {
    first,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** ListRevokedSessions as meta's UserService and AccountService both answer it. */
interface ListingMessage {
  sessions: { sessionId: string; expiresAt?: Timestamp }[];
  now?: Timestamp;
}

/** A client with ListRevokedSessions: the meta client (workers) or AccountService (the gateway). */
export interface RevocationSource {
  listRevokedSessions(req: { since?: Timestamp }, opts: { signal: AbortSignal }): Promise<ListingMessage>;
}

/** The reads of pollRevokedSessions, through `client`. */
export function listThrough(client: RevocationSource): PollOptions["list"] {
  return async (since, signal) => {
    const res = await client.listRevokedSessions(
      { since: since > 0 ? timestampFromMs(since) : undefined },
      { signal },
    );
    if (!res.now) throw new Error("ListRevokedSessions answered without its clock (now)");
    const now = timestampMs(res.now);
    return {
      now,
      // Every revocation has an expiry; one without is kept a day rather than dropped.
      sessions: res.sessions.map((s) => ({
        id: s.sessionId,
        expiresAt: s.expiresAt ? timestampMs(s.expiresAt) : now + 86_400_000,
      })),
    };
  };
}
