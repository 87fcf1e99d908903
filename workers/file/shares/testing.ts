// Test helper: ShareService's dependencies over a download fixture (its meta, link key and clock), with
// small attempt limits, as the unit suites of share links use them.
import type { DownloadFixture } from "../../download/testing.ts";
import { memoryRateLimiter } from "../../lib/ratelimit.ts";
import { shareTokenKeyFrom } from "../../lib/share-token.ts";
import type { ShareDeps } from "./deps.ts";

export function shareTestDeps(d: DownloadFixture, more: Partial<ShareDeps> = {}): ShareDeps {
  return {
    meta: d.upload.deps.meta,
    config: {
      maxTtlDays: 30,
      tokenTtlSeconds: 900,
      urlTtlSeconds: 3600,
      openPerLink: 5,
      openPerClient: 8,
      openWindowSeconds: 600,
    },
    tokenKey: shareTokenKeyFrom("t".repeat(32)),
    linkKey: d.deps.linkKey,
    publicUrl: "",
    zipMaxEntries: d.deps.zipMaxEntries,
    limiter: memoryRateLimiter(() => d.clock.now),
    now: () => d.clock.now,
    ...more,
  };
}
