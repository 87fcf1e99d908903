// Configuration from the environment, with defaults that make the all-in-one mode work out of the box.
import { join, resolve } from "node:path";
import { type BlobStoreConfig, type StoragePolicy, storageConfigFromEnv } from "./blobstore/index.ts";
import { type HttpLimits, httpLimitsFrom, maxDataRequestsPerClientFrom } from "./http-limits.ts";

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
  /** Shared secret that internal callers present to MetaService. */
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
  signinLimit: { perUser: number; perClient: number; windowSeconds: number };
  /** Largest RPC message accepted (bytes). File bytes never travel in RPCs. */
  maxRpcBytes: number;
  /** Addresses or CIDR networks whose X-Forwarded-For we believe (the gateway; a pod network). */
  trustedProxies: string[];
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
  /** The store new content lands in (STORAGE_POLICY, BLOB_BACKEND, BLOB_DIR, S3_*). */
  blobs: BlobStoreConfig;
  /** Every store this process reads from (blobs first): a blob row names its backend. */
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
  /**
   * Garbage collection of unreferenced content, in the process hosting the file service: a pass every
   * GC_INTERVAL_SECONDS (0 = no timer; FileAdminService.RunGarbageCollection still works), deleting content
   * no file has referenced for GC_GRACE_SECONDS.
   */
  gcIntervalSeconds: number;
  gcGraceSeconds: number;
  /** While someone watches (FileService.WatchFiles), how often changes made by other processes are looked for. */
  watchCheckSeconds: number;
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
  /** Attempts before a job becomes a dead letter (TRANSFER_MAX_ATTEMPTS). */
  maxAttempts: number;
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
  const { policy, landing, stores } = storageConfigFromEnv(env);
  return { storagePolicy: policy, blobs: landing, blobStores: stores };
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
      perClient: int(env, "SIGNIN_LIMIT_PER_CLIENT", 60),
      windowSeconds: int(env, "SIGNIN_LIMIT_WINDOW_SECONDS", 300),
    },
    maxRpcBytes: int(env, "MAX_RPC_BYTES", 4 * 1024 * 1024),
    trustedProxies: (env.TRUSTED_PROXIES || "127.0.0.1,::1,::ffff:127.0.0.1")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 10_000),
    http: httpLimitsFrom(env),
    gatewayMaxDataRequestsPerClient: maxDataRequestsPerClientFrom(env),
    ...storage({ ...env, DATA_DIR: dataDir }),
    maxUploadBytes: int(env, "MAX_UPLOAD_BYTES", 64 * 1024 ** 3),
    legacyTrustSha1: env.LEGACY_TRUST_SHA1 === "true" || env.LEGACY_TRUST_SHA1 === "1",
    uploadSessionTtlSeconds: int(env, "UPLOAD_SESSION_TTL_SECONDS", 12 * 3600),
    uploadSweepSeconds: int(env, "UPLOAD_SWEEP_SECONDS", 600),
    gcIntervalSeconds: int(env, "GC_INTERVAL_SECONDS", 600),
    gcGraceSeconds: int(env, "GC_GRACE_SECONDS", 3600),
    watchCheckSeconds: int(env, "WATCH_CHECK_SECONDS", 2),
    adminUsers: (env.ADMIN_USERS || "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    transfer: {
      maxAttempts: Math.max(1, int(env, "TRANSFER_MAX_ATTEMPTS", 8)),
      backoffBaseMs: int(env, "TRANSFER_BACKOFF_BASE_MS", 2000),
      backoffMaxMs: int(env, "TRANSFER_BACKOFF_MAX_MS", 10 * 60_000),
      visibilitySeconds: Math.max(1, int(env, "TRANSFER_VISIBILITY_SECONDS", 60)),
      deleteGraceSeconds: int(env, "TRANSFER_DELETE_GRACE_SECONDS", 600),
      pollMs: Math.max(50, int(env, "TRANSFER_POLL_MS", 1000)),
      concurrency: Math.max(1, int(env, "TRANSFER_CONCURRENCY", 2)),
      republishSeconds: Math.max(1, int(env, "TRANSFER_REPUBLISH_SECONDS", 3600)),
    },
    download: {
      linkSecret: env.DOWNLOAD_LINK_SECRET || undefined,
      urlTtlSeconds: int(env, "DOWNLOAD_URL_TTL_SECONDS", 900),
      urlMaxTtlSeconds: int(env, "DOWNLOAD_URL_MAX_TTL_SECONDS", 7 * 24 * 3600),
      publicUrl: env.PUBLIC_DOWNLOAD_URL || "",
      s3Redirect: env.DOWNLOAD_S3_REDIRECT === "true" || env.DOWNLOAD_S3_REDIRECT === "1",
      lookupCacheMs: int(env, "DOWNLOAD_LOOKUP_CACHE_MS", 1000),
    },
  };
}
