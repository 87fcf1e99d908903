// Share links' settings (issue 18), read by the file worker, which hosts ShareService.
import { type Env, int } from "../../lib/config.ts";

export interface ShareConfig {
  /** The longest a link may live (SHARE_MAX_TTL_DAYS; 0: links may never expire). Links without an expiry get this one. */
  maxTtlDays: number;
  /** Lifetime of a share access token (SHARE_TOKEN_TTL_SECONDS, default 900). */
  tokenTtlSeconds: number;
  /** Lifetime of a minted download URL (SHARE_URL_TTL_SECONDS, default 3600: long enough for a large file's ranges). */
  urlTtlSeconds: number;
  /** Failed OpenShare attempts per link per window (SHARE_OPEN_LIMIT_PER_LINK, default 10). */
  openPerLink: number;
  /** Failed OpenShare attempts per client network per window (SHARE_OPEN_LIMIT_PER_CLIENT, default 30). */
  openPerClient: number;
  /** The window of both (SHARE_OPEN_LIMIT_WINDOW_SECONDS, default 900). */
  openWindowSeconds: number;
}

export function loadShareConfig(env: Env): ShareConfig {
  const c = {
    maxTtlDays: int(env, "SHARE_MAX_TTL_DAYS", 0),
    tokenTtlSeconds: int(env, "SHARE_TOKEN_TTL_SECONDS", 900),
    urlTtlSeconds: int(env, "SHARE_URL_TTL_SECONDS", 3600),
    openPerLink: int(env, "SHARE_OPEN_LIMIT_PER_LINK", 10),
    openPerClient: int(env, "SHARE_OPEN_LIMIT_PER_CLIENT", 30),
    openWindowSeconds: int(env, "SHARE_OPEN_LIMIT_WINDOW_SECONDS", 900),
  };
  if (c.tokenTtlSeconds < 1 || c.urlTtlSeconds < 1)
    throw new Error("SHARE_TOKEN_TTL_SECONDS and SHARE_URL_TTL_SECONDS must be at least 1");
  return c;
}
