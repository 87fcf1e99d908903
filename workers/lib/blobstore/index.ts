// The blob stores a process uses, chosen by configuration:
//   STORAGE_POLICY    where new content goes: local | s3 | transfer (lands on local disk, then the transfer
//                     worker moves it to S3 in the background). Default: BLOB_BACKEND's value, else local.
//   BLOB_BACKEND      local | s3: the older spelling of the policy (local or s3); must agree with it when both
//                     are set
//   BLOB_DIR          local: the store's root (default ${DATA_DIR}/blobs-root; DATA_DIR defaults to ./data)
//   S3_ENDPOINT       s3: http(s)://host[:port] (required by the s3 and transfer policies)
//   S3_ACCESS_KEY, S3_SECRET_KEY (required with S3_ENDPOINT)
//   S3_REGION         (us-east-1)   S3_BUCKET (filestore)   S3_PATH_STYLE (true)   S3_CREATE_BUCKET (true)
// A process reads from every configured store (a blob row names its backend): the local store when the
// policy is local or transfer, or BLOB_DIR is set; the S3 store when the policy is s3 or transfer, or
// S3_ENDPOINT is set. So content moved to S3 stays readable when the policy goes back to local.
import { join, resolve } from "node:path";
import { envBool } from "../env-bool.ts";
import { BlobBackendUnavailableError } from "./errors.ts";
import { createLocalBlobStore } from "./local/index.ts";
import type { S3BlobStoreOptions } from "./s3/index.ts";
import { traceBlobStore } from "./traced.ts";
import type { BlobStore, StoreFor } from "./types.ts";

export * from "./errors.ts";
export { createLocalBlobStore } from "./local/index.ts";
export type { S3BlobStoreOptions } from "./s3/index.ts";
export type * from "./types.ts";
export { canPing, canPresign, canRelocate, hasFileReads, hasFreeSpace } from "./types.ts";

export type BlobStoreConfig = { backend: "local"; root: string } | ({ backend: "s3" } & S3BlobStoreOptions);

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} must be set for STORAGE_POLICY=s3 or transfer (or BLOB_BACKEND=s3)`);
  return value;
}

export type StoragePolicy = "local" | "s3" | "transfer";

export interface StorageConfig {
  policy: StoragePolicy;
  /** The store new content lands in: local disk under the local and transfer policies, else S3. */
  landing: BlobStoreConfig;
  /** Every store this process reads from, the landing store first. */
  stores: BlobStoreConfig[];
}

function localConfig(env: Env): BlobStoreConfig {
  const dataDir = resolve(env.DATA_DIR || "./data");
  return { backend: "local", root: resolve(env.BLOB_DIR || join(dataDir, "blobs-root")) };
}

function s3Config(env: Env): BlobStoreConfig {
  return {
    backend: "s3",
    endPoint: required(env, "S3_ENDPOINT"),
    accessKey: required(env, "S3_ACCESS_KEY"),
    secretKey: required(env, "S3_SECRET_KEY"),
    region: env.S3_REGION || "us-east-1",
    bucket: env.S3_BUCKET || "filestore",
    pathStyle: envBool(env, "S3_PATH_STYLE", true),
    createBucket: envBool(env, "S3_CREATE_BUCKET", true),
    publicEndPoint: env.S3_PUBLIC_ENDPOINT || undefined,
  };
}

/** The storage policy and blob stores from the environment (throws on a bad or missing value). */
export function storageConfigFromEnv(env: Env = process.env): StorageConfig {
  const backend = env.BLOB_BACKEND || undefined;
  if (backend !== undefined && backend !== "local" && backend !== "s3")
    throw new Error(`BLOB_BACKEND must be local or s3, got "${backend}"`);
  const policy = env.STORAGE_POLICY || backend || "local";
  if (policy !== "local" && policy !== "s3" && policy !== "transfer")
    throw new Error(`STORAGE_POLICY must be local, s3 or transfer, got "${policy}"`);
  if (backend !== undefined && backend !== (policy === "transfer" ? "local" : policy))
    throw new Error(`BLOB_BACKEND=${backend} contradicts STORAGE_POLICY=${policy}: set only STORAGE_POLICY`);
  const wantLocal = policy !== "s3" || Boolean(env.BLOB_DIR);
  const wantS3 = policy !== "local" || Boolean(env.S3_ENDPOINT);
  const local = wantLocal ? localConfig(env) : undefined;
  const s3 = wantS3 ? s3Config(env) : undefined;
  const landing = (policy === "s3" ? s3 : local) as BlobStoreConfig;
  const other = policy === "s3" ? local : s3;
  return { policy, landing, stores: other ? [landing, other] : [landing] };
}

/** The storage section of a worker's configuration (workers/lib/config.ts): local paths under its data dir. */
export function loadStorageConfig(env: Env, base: { dataDir: string }): StorageConfig {
  return storageConfigFromEnv({ ...env, DATA_DIR: base.dataDir });
}

/** The settings of the store new content lands in (see storageConfigFromEnv). */
export function blobStoreConfigFromEnv(env: Env = process.env): BlobStoreConfig {
  return storageConfigFromEnv(env).landing;
}

export async function createBlobStore(
  config: BlobStoreConfig = blobStoreConfigFromEnv(),
): Promise<BlobStore> {
  if (config.backend === "local") return traceBlobStore(await createLocalBlobStore(config.root));
  const { backend: _, ...options } = config;
  // Loaded only when S3 is configured: the minio client costs ~7 MiB of memory in every process.
  const { createS3BlobStore } = await import("./s3/index.ts");
  return traceBlobStore(await createS3BlobStore(options));
}

/** A process's open stores: the landing one, all of them, a StoreFor over them; close() stops their timers. */
export interface OpenBlobStores {
  landing: BlobStore;
  stores: BlobStore[];
  storeFor: StoreFor;
  close(): void;
}

/** Opens the stores (StorageConfig.stores: the landing one first) and a StoreFor over all of them. */
export async function openBlobStores(configs: BlobStoreConfig[]): Promise<OpenBlobStores> {
  const stores = await Promise.all(configs.map((c) => createBlobStore(c)));
  return {
    landing: stores[0] as BlobStore,
    stores,
    storeFor: storeForAll(...stores),
    close() {
      for (const store of stores) store.close();
    },
  };
}

/**
 * The stores a worker uses: `shared` ones when its composer hands them in (the all-in-one process opens
 * one set for every service, and closes it), else its own, opened here: close() then closes only those.
 */
export async function blobStoresFor(
  storage: StorageConfig,
  shared?: OpenBlobStores,
): Promise<OpenBlobStores> {
  return shared ? { ...shared, close() {} } : openBlobStores(storage.stores);
}

/** A StoreFor over the given stores (one per backend). */
export function storeForAll(...stores: BlobStore[]): StoreFor {
  const byBackend = new Map(stores.map((s) => [s.backend as string, s]));
  return (backend) => {
    const store = byBackend.get(backend);
    if (!store) throw new BlobBackendUnavailableError(backend);
    return store;
  };
}
