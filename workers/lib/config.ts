// Configuration from the environment, with defaults that make the all-in-one mode work out of the box.
import { join, resolve } from "node:path";
import { parseProxyList } from "../../core/client-address.ts";
import { type HttpLimits, httpLimitsFrom, maxDataRequestsPerClientFrom } from "../../core/http-limits.ts";
import { type BlobStoreConfig, type StoragePolicy, storageConfigFromEnv } from "./blobstore/index.ts";
import { envBool } from "./env-bool.ts";

export type ServiceName = "account" | "meta" | "file" | "upload" | "download" | "transfer";

export const defaultPorts: Record<ServiceName | "gateway" | "grpc", number> = {
  gateway: 8080,
  grpc: 9090,
  account: 9101,
  meta: 9102,
  file: 9103,
  upload: 28080,
  download: 38080,
  transfer: 9106,
};

export interface Config {
  host: string;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  /** Prefix of every Redis key (several deployments may share one Redis). */
  redisPrefix: string;
  /** Shared secret that internal callers present to meta. */
  internalSecret: string | undefined;
  /** Base URLs of the other services (services mode). */
  serviceUrls: Record<ServiceName, string>;
  jwt: {
    privateJwk: string | undefined;
    keyFile: string;
    issuer: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  /** Sign-in limits (see workers/account/signin-limits.ts). */
  signinLimit: { perUser: number; perUserTotal: number; perClient: number; windowSeconds: number };
  /**
   * How often each process reads the sessions ended since its last look (REVOCATION_POLL_MS): access
   * tokens of a signed-out session are refused everywhere within about this long.
   */
  revocationPollMs: number;
  /** Largest RPC message accepted (bytes). File bytes never travel in RPCs. */
  maxRpcBytes: number;
  /**
   * Addresses or CIDR networks whose X-Forwarded-For a worker believes (the gateway; a pod network):
   * TRUSTED_PROXIES, loopback by default.
   */
  trustedProxies: string[];
  /**
   * The same list as the public entries read it (the gateway, all-in-one's ports): nobody by default, since
   * their peers are clients unless a proxy (Ingress, load balancer) is named in TRUSTED_PROXIES.
   */
  edgeTrustedProxies: string[];
  shutdownGraceMs: number;
  /** Header, idle-body and keep-alive timeouts of every HTTP port (HTTP_*_SECONDS, see http-limits.ts). */
  http: HttpLimits;
  /** Data-plane requests one client may have in progress at the gateway (0: no cap). */
  gatewayMaxDataRequestsPerClient: number;
  /**
   * Where new content goes (STORAGE_POLICY: local | s3 | transfer, see blobstore/index.ts). Under
   * "transfer" it lands on local disk and the transfer worker moves it to S3 in the background; the upload
   * workers and the transfer worker must then share the local blob directory (BLOB_DIR: one volume).
   */
  storagePolicy: StoragePolicy;
  /**
   * Every store this process reads from (STORAGE_POLICY, BLOB_BACKEND, BLOB_DIR, S3_*), the one new content
   * lands in first: a blob row names its backend.
   */
  blobStores: BlobStoreConfig[];
  /** Largest file accepted by an upload (bytes). */
  maxUploadBytes: number;
  /** Legacy /file/fastupload may link anyone's content by SHA-1 alone (unsafe; off by default). */
  legacyTrustSha1: boolean;
  /**
   * How long a multipart upload session stays open, and how often expired ones are swept (and blobs
   * still without SHA-1 get it filled in: see workers/upload/sha1.ts).
   */
  uploadSessionTtlSeconds: number;
  uploadSweepSeconds: number;
  /** A user's upload sessions open (or being completed) at once; 0: no limit. */
  uploadMaxOpenSessionsPerUser: number;
  /**
   * How long a multipart completion may show no sign of life (its process died) before another
   * CompleteUploadSession takes it over; a running completion renews it every third of it.
   */
  uploadCompletionLeaseSeconds: number;
  /**
   * Garbage collection of unreferenced content, in the process hosting the file service: a pass every
   * GC_INTERVAL_SECONDS (0 = no timer; FileAdminService.RunGarbageCollection still works), deleting content
   * no file has referenced for GC_GRACE_SECONDS.
   */
  gcIntervalSeconds: number;
  gcGraceSeconds: number;
  /**
   * How deep folders may nest (MAX_FOLDER_DEPTH, at least 1): a folder in the root is at depth 1; files add
   * no level. Creating, moving or restoring a folder deeper is refused.
   */
  maxFolderDepth: number;
  /** While someone watches (FileService.WatchFiles), how often changes made by other processes are looked for. */
  watchCheckSeconds: number;
  /** WatchFiles streams one user may hold open in one file-service process (FILE_MAX_WATCHES_PER_USER; 0: no cap). */
  fileMaxWatchesPerUser: number;
  /**
   * Usernames allowed to call operator services (TransferService), ADMIN_USERS, comma-separated; matched
   * without regard to case. None by default: then nobody may.
   */
  adminUsers: string[];
  transfer: TransferConfig;
  download: {
    /** Signs download links (DOWNLOAD_LINK_SECRET); unset: derived from the internal secret. */
    linkSecret: string | undefined;
    /** Lifetime of a download link when the caller names none, and the longest one may ask for. */
    urlTtlSeconds: number;
    urlMaxTtlSeconds: number;
    /** Base URL of links (PUBLIC_DOWNLOAD_URL, e.g. https://files.example.com); unset: gateway-relative. */
    publicUrl: string;
    /** GETs of content on S3 answer 302 to a presigned URL (DOWNLOAD_S3_REDIRECT) instead of streaming. */
    s3Redirect: boolean;
    /** How long a download worker reuses a file lookup (DOWNLOAD_LOOKUP_CACHE_MS; 0: off). */
    lookupCacheMs: number;
  };
}

/** The transfer worker (local disk → S3). */
export interface TransferConfig {
  /**
   * How long after its first attempt a failing job is still retried before it becomes a dead letter
   * (TRANSFER_RETRY_FOR_SECONDS, a day): an S3 outage of hours loses nothing.
   */
  retryForSeconds: number;
  /** Optionally also a cap on attempts (TRANSFER_MAX_ATTEMPTS; 0, the default: none). */
  maxAttempts: number;
  /**
   * How often, while dead letters S3 caused exist, S3 is probed and they are re-driven once it answers
   * (TRANSFER_REDRIVE_SECONDS).
   */
  redriveSeconds: number;
  /** Backoff after the first failed attempt, doubling up to the max (TRANSFER_BACKOFF_BASE_MS, _MAX_MS). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * A job whose worker stopped renewing it (crashed, hung) runs again after this
   * (TRANSFER_VISIBILITY_SECONDS); a running copy renews it every third of it.
   */
  visibilitySeconds: number;
  /** How long a moved blob's local copy stays for reads that opened it before the move. */
  deleteGraceSeconds: number;
  /** How often the outbox is relayed to the queue and due local copies deleted (TRANSFER_POLL_MS). */
  pollMs: number;
  /** Jobs copied at the same time by one worker (TRANSFER_CONCURRENCY). */
  concurrency: number;
  /**
   * A queued or running job without a sign of life for this long is published again: its queue message
   * may be lost (TRANSFER_REPUBLISH_SECONDS). Must exceed the largest backoff.
   */
  republishSeconds: number;
  /** WatchTransfers streams one operator may hold open in one process (TRANSFER_MAX_WATCHES_PER_USER; 0: no cap). */
  maxWatchesPerUser: number;
}

function int(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

export function portFor(env: Record<string, string | undefined>, name: keyof typeof defaultPorts): number {
  return int(env, "PORT", defaultPorts[name]);
}

function storage(env: Record<string, string | undefined>) {
  const { policy, stores } = storageConfigFromEnv(env);
  return { storagePolicy: policy, blobStores: stores };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const dataDir = resolve(env.DATA_DIR || "./data");
  const host = env.HOST || "127.0.0.1";
  const local = (svc: ServiceName) => `http://127.0.0.1:${defaultPorts[svc]}`;
  const url = (svc: ServiceName) => env[`${svc.toUpperCase()}_URL`] || local(svc);
  return {
    host,
    dataDir,
    databaseUrl: env.DATABASE_URL || `sqlite:${join(dataDir, "filestore.db")}`,
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
    },
    jwt: {
      privateJwk: env.JWT_PRIVATE_JWK || undefined,
      keyFile: env.JWT_KEY_FILE || join(dataDir, "keys", "jwt-signing-key.jwk"),
      issuer: env.JWT_ISSUER || "filestore",
      accessTtlSeconds: int(env, "ACCESS_TOKEN_TTL_SECONDS", 15 * 60),
      refreshTtlSeconds: int(env, "REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
    },
    signinLimit: {
      perUser: int(env, "SIGNIN_LIMIT_PER_USER", 10),
      perUserTotal: int(env, "SIGNIN_LIMIT_PER_USER_TOTAL", 100),
      perClient: int(env, "SIGNIN_LIMIT_PER_CLIENT", 60),
      windowSeconds: int(env, "SIGNIN_LIMIT_WINDOW_SECONDS", 300),
    },
    revocationPollMs: Math.max(100, int(env, "REVOCATION_POLL_MS", 1000)),
    maxRpcBytes: int(env, "MAX_RPC_BYTES", 4 * 1024 * 1024),
    trustedProxies: parseProxyList(env.TRUSTED_PROXIES, ["127.0.0.1", "::1"]),
    edgeTrustedProxies: parseProxyList(env.TRUSTED_PROXIES),
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 10_000),
    http: httpLimitsFrom(env),
    gatewayMaxDataRequestsPerClient: maxDataRequestsPerClientFrom(env),
    ...storage({ ...env, DATA_DIR: dataDir }),
    maxUploadBytes: int(env, "MAX_UPLOAD_BYTES", 64 * 1024 ** 3),
    legacyTrustSha1: envBool(env, "LEGACY_TRUST_SHA1", false),
    uploadSessionTtlSeconds: int(env, "UPLOAD_SESSION_TTL_SECONDS", 12 * 3600),
    uploadSweepSeconds: int(env, "UPLOAD_SWEEP_SECONDS", 600),
    uploadMaxOpenSessionsPerUser: int(env, "UPLOAD_MAX_OPEN_SESSIONS_PER_USER", 100),
    uploadCompletionLeaseSeconds: Math.max(1, int(env, "UPLOAD_COMPLETION_LEASE_SECONDS", 60)),
    gcIntervalSeconds: int(env, "GC_INTERVAL_SECONDS", 600),
    gcGraceSeconds: int(env, "GC_GRACE_SECONDS", 3600),
    maxFolderDepth: Math.max(1, int(env, "MAX_FOLDER_DEPTH", 256)),
    watchCheckSeconds: int(env, "WATCH_CHECK_SECONDS", 2),
    fileMaxWatchesPerUser: int(env, "FILE_MAX_WATCHES_PER_USER", 16),
    adminUsers: (env.ADMIN_USERS || "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    transfer: {
      retryForSeconds: int(env, "TRANSFER_RETRY_FOR_SECONDS", 86_400),
      maxAttempts: int(env, "TRANSFER_MAX_ATTEMPTS", 0),
      redriveSeconds: Math.max(1, int(env, "TRANSFER_REDRIVE_SECONDS", 60)),
      backoffBaseMs: int(env, "TRANSFER_BACKOFF_BASE_MS", 2000),
      backoffMaxMs: int(env, "TRANSFER_BACKOFF_MAX_MS", 10 * 60_000),
      visibilitySeconds: Math.max(1, int(env, "TRANSFER_VISIBILITY_SECONDS", 60)),
      deleteGraceSeconds: int(env, "TRANSFER_DELETE_GRACE_SECONDS", 600),
      pollMs: Math.max(50, int(env, "TRANSFER_POLL_MS", 1000)),
      concurrency: Math.max(1, int(env, "TRANSFER_CONCURRENCY", 2)),
      republishSeconds: Math.max(1, int(env, "TRANSFER_REPUBLISH_SECONDS", 3600)),
      maxWatchesPerUser: int(env, "TRANSFER_MAX_WATCHES_PER_USER", 16),
    },
    download: {
      linkSecret: env.DOWNLOAD_LINK_SECRET || undefined,
      urlTtlSeconds: int(env, "DOWNLOAD_URL_TTL_SECONDS", 900),
      urlMaxTtlSeconds: int(env, "DOWNLOAD_URL_MAX_TTL_SECONDS", 7 * 24 * 3600),
      publicUrl: env.PUBLIC_DOWNLOAD_URL || "",
      s3Redirect: envBool(env, "DOWNLOAD_S3_REDIRECT", false),
      lookupCacheMs: int(env, "DOWNLOAD_LOOKUP_CACHE_MS", 1000),
    },
  };
}
