// Configuration from the environment, with defaults that make the all-in-one mode work out of the box.
import { join, resolve } from "node:path";
import { type BlobStoreConfig, blobStoreConfigFromEnv } from "./blobstore/index.ts";

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
  /** Where file bytes live (BLOB_BACKEND, BLOB_DIR, S3_*). */
  blobs: BlobStoreConfig;
  /** Largest file accepted by an upload (bytes). */
  maxUploadBytes: number;
  /** Legacy /file/fastupload may link anyone's content by SHA-1 alone (unsafe; off by default). */
  legacyTrustSha1: boolean;
  /** How long a multipart upload session stays open, and how often expired ones are swept. */
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
    blobs: blobStoreConfigFromEnv({ ...env, DATA_DIR: dataDir }),
    maxUploadBytes: int(env, "MAX_UPLOAD_BYTES", 64 * 1024 ** 3),
    legacyTrustSha1: env.LEGACY_TRUST_SHA1 === "true" || env.LEGACY_TRUST_SHA1 === "1",
    uploadSessionTtlSeconds: int(env, "UPLOAD_SESSION_TTL_SECONDS", 12 * 3600),
    uploadSweepSeconds: int(env, "UPLOAD_SWEEP_SECONDS", 600),
    gcIntervalSeconds: int(env, "GC_INTERVAL_SECONDS", 600),
    gcGraceSeconds: int(env, "GC_GRACE_SECONDS", 3600),
    watchCheckSeconds: int(env, "WATCH_CHECK_SECONDS", 2),
  };
}
