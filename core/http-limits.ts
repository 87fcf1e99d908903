// How long an HTTP client may keep a connection or a request waiting, and how many data-plane requests
// one client may have in progress at the gateway. Every server reads these: the gateway (Deno or Bun), the
// all-in-one process and each worker's port. Web-standard (the gateway imports it): no runtime imports.

type Env = Record<string, string | undefined>;

export interface HttpLimits {
  /** A connection must deliver a complete request head within this long of opening (ms). */
  headerTimeoutMs: number;
  /** A request body that delivers no byte for this long is cut, and the upload behind it removed (ms). */
  idleTimeoutMs: number;
  /** A kept-alive connection with no request in progress is closed after this long (ms). */
  keepAliveMs: number;
}

export const defaultHttpLimits: HttpLimits = {
  headerTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  // Longer than the 60 s for which proxies and load balancers commonly keep an idle upstream connection:
  // closing first would race their next request on it.
  keepAliveMs: 65_000,
};

/** Default of GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT. */
export const DEFAULT_MAX_DATA_REQUESTS_PER_CLIENT = 64;

function seconds(env: Env, name: string, fallbackMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallbackMs;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1)
    throw new Error(`${name} must be a whole number of seconds, at least 1 (got "${raw}")`);
  return Number(raw) * 1000;
}

/** HTTP_HEADER_TIMEOUT_SECONDS, HTTP_IDLE_TIMEOUT_SECONDS and HTTP_KEEPALIVE_SECONDS. */
export function httpLimitsFrom(env: Env): HttpLimits {
  return {
    headerTimeoutMs: seconds(env, "HTTP_HEADER_TIMEOUT_SECONDS", defaultHttpLimits.headerTimeoutMs),
    idleTimeoutMs: seconds(env, "HTTP_IDLE_TIMEOUT_SECONDS", defaultHttpLimits.idleTimeoutMs),
    keepAliveMs: seconds(env, "HTTP_KEEPALIVE_SECONDS", defaultHttpLimits.keepAliveMs),
  };
}

/** GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT: 0 turns the cap off. */
export function maxDataRequestsPerClientFrom(env: Env): number {
  const raw = env.GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT;
  if (raw === undefined || raw === "") return DEFAULT_MAX_DATA_REQUESTS_PER_CLIENT;
  if (!/^\d{1,6}$/.test(raw))
    throw new Error(`GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT must be a whole number (0: no cap), got "${raw}"`);
  return Number(raw);
}

/**
 * Bun.serve's `idleTimeout` (seconds, at most 255): Bun has one timer for a connection that moves no
 * bytes, whether it waits for a body, between requests or for the answer; it closes a connection that
 * sends no complete head within about 10 s by itself.
 */
export const bunIdleTimeoutSeconds = (limits: HttpLimits): number =>
  Math.min(255, Math.max(1, Math.ceil(limits.idleTimeoutMs / 1000)));
