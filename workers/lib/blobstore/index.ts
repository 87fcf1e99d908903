// The blob store a process uses, chosen by configuration:
//   BLOB_BACKEND      local (default) | s3
//   BLOB_DIR          local: the store's root (default ${DATA_DIR}/blobs-root; DATA_DIR defaults to ./data)
//   S3_ENDPOINT       s3: http(s)://host[:port] (required)
//   S3_ACCESS_KEY, S3_SECRET_KEY (required)
//   S3_REGION         (us-east-1)   S3_BUCKET (filestore)   S3_PATH_STYLE (true)   S3_CREATE_BUCKET (true)
//   S3_PUBLIC_ENDPOINT  where clients reach the bucket, when not at S3_ENDPOINT (presigned download URLs)
import { join, resolve } from "node:path";
import { BlobBackendUnavailableError } from "./errors.ts";
import { createLocalBlobStore } from "./local.ts";
import { createS3BlobStore, type S3BlobStoreOptions } from "./s3.ts";
import type { BlobStore, StoreFor } from "./types.ts";

export * from "./errors.ts";
export { createLocalBlobStore } from "./local.ts";
export { createS3BlobStore, type S3BlobStoreOptions } from "./s3.ts";
export type * from "./types.ts";

export type BlobStoreConfig = { backend: "local"; root: string } | ({ backend: "s3" } & S3BlobStoreOptions);

type Env = Record<string, string | undefined>;

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${env[name]}"`);
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} must be set when BLOB_BACKEND=s3`);
  return value;
}

/** The blob-store settings from the environment (throws on a bad or missing value). */
export function blobStoreConfigFromEnv(env: Env = process.env): BlobStoreConfig {
  const backend = env.BLOB_BACKEND || "local";
  if (backend === "local") {
    const dataDir = resolve(env.DATA_DIR || "./data");
    return { backend, root: resolve(env.BLOB_DIR || join(dataDir, "blobs-root")) };
  }
  if (backend === "s3") {
    return {
      backend,
      endPoint: required(env, "S3_ENDPOINT"),
      accessKey: required(env, "S3_ACCESS_KEY"),
      secretKey: required(env, "S3_SECRET_KEY"),
      region: env.S3_REGION || "us-east-1",
      bucket: env.S3_BUCKET || "filestore",
      pathStyle: bool(env, "S3_PATH_STYLE", true),
      createBucket: bool(env, "S3_CREATE_BUCKET", true),
      publicEndPoint: env.S3_PUBLIC_ENDPOINT || undefined,
    };
  }
  throw new Error(`BLOB_BACKEND must be local or s3, got "${backend}"`);
}

export function createBlobStore(config: BlobStoreConfig = blobStoreConfigFromEnv()): Promise<BlobStore> {
  if (config.backend === "local") return createLocalBlobStore(config.root);
  const { backend: _, ...options } = config;
  return createS3BlobStore(options);
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
