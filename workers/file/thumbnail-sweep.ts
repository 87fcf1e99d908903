// The thumbnail sweep: pages through content the file worker has not looked at yet (DerivedService's
// candidates after a cursor: new uploads within a sweep interval, and after a restart everything once,
// whose finished content the query skips) and makes thumbnails, one or two sources at a time.
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

export interface SweepResult {
  made: number;
  skipped: number;
  failed: number;
}

export interface ThumbnailSweep {
  /** One pass: every candidate after the cursor. */
  pass(): Promise<SweepResult>;
  /** Runs pass() every `seconds` (0: never); returns a stop function. */
  start(seconds: number, log: Logger): () => void;
}

export function thumbnailSweep(
  deps: ThumbnailDeps,
  opts: { concurrency: number; now?: () => number },
): ThumbnailSweep {
  const now = opts.now ?? Date.now;
  const concurrency = Math.max(1, Math.min(2, opts.concurrency));
  let cursor = { createdAt: 0n, sha256: "" };
  const passed = new Set<string>();

  async function pass(): Promise<SweepResult> {
    const result: SweepResult = { made: 0, skipped: 0, failed: 0 };
    let at = cursor;
    for (;;) {
      const { candidates } = await deps.meta.listDerivedCandidates({
        kind: THUMBNAIL_SIZES[0].kind,
        afterCreatedAt: at.createdAt,
        afterSha256: at.sha256,
        limit: PAGE,
      });
      const todo = candidates.filter((c) => !passed.has(c.sha256));
      let next = 0;
      const lane = async () => {
        for (let c = todo[next++]; c; c = todo[next++]) {
          try {
            const outcome = await makeThumbnails(deps, { ...c, size: Number(c.size) });
            if (outcome === "ignored") remember(c.sha256);
            else result[outcome]++;
          } catch (err) {
            // The store or meta failed, not the content: the next pass after a restart tries again.
            result.failed++;
            deps.log?.warn("thumbnail generation failed", { sha256: c.sha256, err: String(err) });
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      const last = candidates.at(-1);
      if (last) at = { createdAt: last.createdAt, sha256: last.sha256 };
      if (candidates.length < PAGE) break;
    }
    const lagged = BigInt(now() - CURSOR_LAG_MS);
    cursor = at.createdAt > lagged ? { createdAt: lagged, sha256: "" } : at;
    if (cursor.createdAt < 0n) cursor = { createdAt: 0n, sha256: "" };
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
