// The thumbnail sweep: pages through content the file worker has not looked at yet (DerivedService's
// candidates after a cursor: new uploads within a sweep interval, and after a restart everything once,
// whose finished content the query skips) and makes thumbnails, one or two sources at a time.
// Content whose thumbnails failed for a reason of the store or meta (not of the content: that is recorded
// as skipped) is tried again while the worker runs, with exponential backoff, a bounded number of times;
// a restart starts the sweep from the beginning again anyway.
import { type Backoff, backoffDelay } from "../../core/backoff.ts";
import type { DerivedCandidate } from "../../proto/gen/filestore/meta/v1/derived_pb.ts";
import type { Logger } from "../lib/log.ts";
import { every } from "../lib/periodic.ts";
import { THUMBNAIL_SIZES } from "../lib/thumbnail-kinds.ts";
import { makeThumbnails, type ThumbnailDeps } from "./thumbnails.ts";

/**
 * How far behind the newest content the cursor stays: a transaction that commits after a later one
 * (created_at is taken before commit) is still found.
 */
const CURSOR_LAG_MS = 5_000;
const PAGE = 50;
/** Content passed over (no thumbnail kind, no ffmpeg) is remembered up to this many, not to be read again. */
const MAX_PASSED = 50_000;
/** Content waiting for a retry, at most (more failing at once means the store is down: a restart retries). */
const MAX_RETRIES_PENDING = 10_000;

export interface SweepResult {
  made: number;
  skipped: number;
  failed: number;
}

export interface ThumbnailSweep {
  /** One pass: every candidate after the cursor, then the retries that are due. */
  pass(): Promise<SweepResult>;
  /** Runs pass() every `seconds` (0: never); returns a stop function. */
  start(seconds: number, log: Logger): () => void;
}

export interface RetryPolicy {
  /** Tries per content after the first failure (then it waits for a restart). */
  attempts: number;
  backoff: Backoff;
}

/** 30 s, 1, 2, 4, 8, 16 min (±25 %): a store that is down for half an hour is waited out. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  backoff: { baseMs: 30_000, maxMs: 30 * 60_000, jitter: "equal" },
};

interface Retry {
  createdAt: bigint;
  /** Retries done so far. */
  tried: number;
  dueAt: number;
}

export function thumbnailSweep(
  deps: ThumbnailDeps,
  opts: { concurrency: number; now?: () => number; retry?: RetryPolicy },
): ThumbnailSweep {
  const now = opts.now ?? Date.now;
  const policy = opts.retry ?? DEFAULT_RETRY;
  const concurrency = Math.max(1, Math.min(2, opts.concurrency));
  const kind = THUMBNAIL_SIZES[0].kind;
  let cursor = { createdAt: 0n, sha256: "" };
  const passed = new Set<string>();
  const retries = new Map<string, Retry>();

  /** Makes one source's thumbnails, counting the outcome; true unless the store or meta failed. */
  async function attempt(c: DerivedCandidate, result: SweepResult): Promise<boolean> {
    try {
      const outcome = await makeThumbnails(deps, { ...c, size: Number(c.size) });
      if (outcome === "ignored") remember(c.sha256);
      else result[outcome]++;
      return true;
    } catch (err) {
      result.failed++;
      deps.log?.warn("thumbnail generation failed", { sha256: c.sha256, err: String(err) });
      return false;
    }
  }

  function scheduleRetry(c: DerivedCandidate, tried: number) {
    if (tried >= policy.attempts) {
      retries.delete(c.sha256);
      deps.log?.warn("thumbnail retries exhausted: tried again after a restart", { sha256: c.sha256 });
      return;
    }
    if (!retries.has(c.sha256) && retries.size >= MAX_RETRIES_PENDING) return;
    retries.set(c.sha256, {
      createdAt: c.createdAt,
      tried,
      dueAt: now() + backoffDelay(tried, policy.backoff),
    });
  }

  /** The candidate as it stands now (its location may have moved); undefined when it needs nothing now. */
  async function current(sha256: string, createdAt: bigint): Promise<DerivedCandidate | undefined> {
    let at = { createdAt: createdAt - 1n, sha256: "" };
    for (;;) {
      const { candidates } = await deps.meta.listDerivedCandidates({
        kind,
        afterCreatedAt: at.createdAt,
        afterSha256: at.sha256,
        limit: PAGE,
      });
      const hit = candidates.find((c) => c.sha256 === sha256);
      const last = candidates.at(-1);
      if (hit || !last || candidates.length < PAGE || last.createdAt > createdAt) return hit;
      at = { createdAt: last.createdAt, sha256: last.sha256 };
    }
  }

  async function retryDue(result: SweepResult): Promise<void> {
    const at = now();
    for (const [sha256, r] of [...retries]) {
      if (r.dueAt > at) continue;
      let c: DerivedCandidate | undefined;
      try {
        c = await current(sha256, r.createdAt);
      } catch (err) {
        // Meta is not answering: every retry would fail alike; the next pass tries again.
        deps.log?.warn("thumbnail retry postponed", { err: String(err) });
        return;
      }
      // Gone, or thumbnails made meanwhile (another worker): nothing left to do.
      if (!c) retries.delete(sha256);
      else if (await attempt(c, result)) retries.delete(sha256);
      else scheduleRetry(c, r.tried + 1);
    }
  }

  async function pass(): Promise<SweepResult> {
    const result: SweepResult = { made: 0, skipped: 0, failed: 0 };
    let at = cursor;
    for (;;) {
      const { candidates } = await deps.meta.listDerivedCandidates({
        kind,
        afterCreatedAt: at.createdAt,
        afterSha256: at.sha256,
        limit: PAGE,
      });
      const todo = candidates.filter((c) => !passed.has(c.sha256) && !retries.has(c.sha256));
      let next = 0;
      const lane = async () => {
        for (let c = todo[next++]; c; c = todo[next++]) if (!(await attempt(c, result))) scheduleRetry(c, 0);
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      const last = candidates.at(-1);
      if (last) at = { createdAt: last.createdAt, sha256: last.sha256 };
      if (candidates.length < PAGE) break;
    }
    const lagged = BigInt(now() - CURSOR_LAG_MS);
    cursor = at.createdAt > lagged ? { createdAt: lagged, sha256: "" } : at;
    if (cursor.createdAt < 0n) cursor = { createdAt: 0n, sha256: "" };
    await retryDue(result);
    return result;
  }

  function remember(sha256: string) {
    if (passed.size >= MAX_PASSED) passed.clear();
    passed.add(sha256);
  }

  return {
    pass,
    start(seconds, log) {
      return every(seconds, "thumbnail sweep", log, async () => {
        const r = await pass();
        if (r.made + r.skipped + r.failed > 0) log.info("thumbnails", { ...r });
      });
    },
  };
}
