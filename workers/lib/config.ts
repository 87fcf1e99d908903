// Configuration from the environment, with defaults that make the all-in-one mode work out of the box.
// Every process reads the base below; each service reads its own section, defined beside it
// (workers/<svc>/config.ts; storage in blobstore/index.ts) and named by its wire.ts. Each setting's env
// name and default are written once, in the loader of the section that owns it.
import { resolve } from "node:path";
import { parseProxyList } from "../../core/client-address.ts";
import { type HttpLimits, httpLimitsFrom } from "../../core/http-limits.ts";
import { envBool } from "./env-bool.ts";

export type ServiceName = "account" | "meta" | "file" | "upload" | "download" | "transfer" | "dav";

export const defaultPorts: Record<ServiceName | "gateway" | "grpc", number> = {
  gateway: 8080,
  grpc: 9090,
  account: 9101,
  meta: 9102,
  file: 9103,
  upload: 28080,
  download: 38080,
  transfer: 9106,
  dav: 9107,
};

export type Env = Record<string, string | undefined>;

/** What every process reads: where it listens, how it finds and trusts the others, its HTTP limits. */
export interface BaseConfig {
  /** The port this process serves (PORT; the default is its service's, see defaultPorts). */
  port: number;
  host: string;
  dataDir: string;
  redisUrl: string | undefined;
  /** Prefix of every Redis key (several deployments may share one Redis). */
  redisPrefix: string;
  /** Shared secret that internal callers present to meta. */
  internalSecret: string | undefined;
  /** Base URLs of the other services (services mode). */
  serviceUrls: Record<ServiceName, string>;
  /** The `iss` of access tokens: the account service signs with it, every verifier checks it. */
  issuer: string;
  /**
   * How often each process reads the sessions ended since its last look (REVOCATION_POLL_MS): access
   * tokens of a signed-out session are refused everywhere within about this long.
   */
  revocationPollMs: number;
  /** Largest RPC message accepted (bytes). File bytes never travel in RPCs. */
  maxRpcBytes: number;
  /**
   * Addresses or CIDR networks whose X-Forwarded-For a worker believes (the gateway; a pod network):
   * TRUSTED_PROXIES, loopback by default. The all-in-one ports read the same list their own way (its edge
   * section).
   */
  trustedProxies: string[];
  shutdownGraceMs: number;
  /** Header, idle-body and keep-alive timeouts of every HTTP port (HTTP_*_SECONDS, see http-limits.ts). */
  http: HttpLimits;
  /**
   * ADMIN_USERS, comma-separated, matched without regard to case: administrators by configuration (of
   * AdminService, besides those the database names; see workers/account/account-state.ts) and the users
   * allowed to call operator services (TransferService). None by default.
   */
  adminUsers: string[];
  /** One JSON access-log line per HTTP request served (ACCESS_LOG, off by default). */
  accessLog: boolean;
  /**
   * METRICS_TOKEN: the bearer token GET /metrics asks for. Workers' ports are internal: without a token
   * their /metrics is open; the public ports (gateway, all-in-one) serve /metrics only with one set.
   */
  metricsToken: string | undefined;
}

export function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

export function portFor(env: Env, name: keyof typeof defaultPorts): number {
  return int(env, "PORT", defaultPorts[name]);
}

/** The base every process reads; `name` picks the default port. */
export function loadBaseConfig(name: keyof typeof defaultPorts, env: Env = process.env): BaseConfig {
  const local = (svc: ServiceName) => `http://127.0.0.1:${defaultPorts[svc]}`;
  const url = (svc: ServiceName) => env[`${svc.toUpperCase()}_URL`] || local(svc);
  return {
    port: portFor(env, name),
    host: env.HOST || "127.0.0.1",
    dataDir: resolve(env.DATA_DIR || "./data"),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || "filestore:",
    internalSecret: env.INTERNAL_SECRET || undefined,
    serviceUrls: {
      account: url("account"),
      meta: url("meta"),
      file: url("file"),
      upload: url("upload"),
      download: url("download"),
      transfer: url("transfer"),
      dav: url("dav"),
    },
    issuer: env.JWT_ISSUER || "filestore",
    revocationPollMs: Math.max(100, int(env, "REVOCATION_POLL_MS", 1000)),
    maxRpcBytes: int(env, "MAX_RPC_BYTES", 4 * 1024 * 1024),
    trustedProxies: parseProxyList(env.TRUSTED_PROXIES, ["127.0.0.1", "::1"]),
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 10_000),
    http: httpLimitsFrom(env),
    adminUsers: (env.ADMIN_USERS || "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    accessLog: envBool(env, "ACCESS_LOG", false),
    metricsToken: env.METRICS_TOKEN || undefined,
  };
}

/** A section's loader: its settings from the environment (the base at hand for derived defaults). */
export type SectionLoader<T = unknown> = (env: Env, base: BaseConfig) => T;
export type Sections = Record<string, SectionLoader>;
/** The base plus one typed field per section: what a worker's wire reads. */
export type ConfigOf<S extends Sections> = BaseConfig & { [K in keyof S]: ReturnType<S[K]> };

/** The base for process `name` and the `sections` it reads (throws on a bad value: the process stops). */
export function loadConfig<S extends Sections>(
  name: keyof typeof defaultPorts,
  sections: S,
  env: Env = process.env,
): ConfigOf<S> {
  const base = loadBaseConfig(name, env);
  const loaded: Record<string, unknown> = {};
  for (const [key, load] of Object.entries(sections)) loaded[key] = load(env, base);
  return { ...base, ...loaded } as ConfigOf<S>;
}
