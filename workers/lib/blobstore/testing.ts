// Test helper: the blob stores the suites run against. Local disk always; S3 when TEST_S3_ENDPOINT,
// TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY (and optionally TEST_S3_REGION) are set — CI sets them
// (scripts/test-deps.sh starts Ceph RGW) and insists on them, so the S3 half cannot silently vanish.
// Each opened store is private: a fresh directory, or a fresh bucket that close() deletes with its content.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Client } from "minio";
import { createLocalBlobStore } from "./local/index.ts";
import { createS3BlobStore } from "./s3/index.ts";
import type { BlobStore } from "./types.ts";

export interface OpenedBlobStore {
  store: BlobStore;
  /** Everything the store holds, sorted: files under its root, or keys and unfinished multipart uploads. */
  snapshot(): Promise<string[]>;
  /**
   * Replaces the bytes at `location` behind the store's back (fault injection: bit rot, a replaced
   * object); testBlobStores' stores have it.
   */
  overwrite?(location: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface TestBlobStore {
  backend: "local" | "s3";
  open(): Promise<OpenedBlobStore>;
}

/** S3 settings for tests, or undefined when none are set (a throw under CI). */
export function testS3Settings() {
  const endPoint = process.env.TEST_S3_ENDPOINT;
  const accessKey = process.env.TEST_S3_ACCESS_KEY;
  const secretKey = process.env.TEST_S3_SECRET_KEY;
  if (!endPoint || !accessKey || !secretKey) {
    if (process.env.CI)
      throw new Error(
        "CI must set TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY and TEST_S3_SECRET_KEY: the blob store is tested on S3 too",
      );
    return undefined;
  }
  return { endPoint, accessKey, secretKey, region: process.env.TEST_S3_REGION || "us-east-1" };
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)));
    else out.push(relative(root, path));
  }
  return out;
}

export function testBlobStores(opts: { s3PartSize?: number } = {}): TestBlobStore[] {
  const out: TestBlobStore[] = [
    {
      backend: "local",
      async open() {
        const root = await mkdtemp(join(tmpdir(), "filestore-blobs-"));
        const store = await createLocalBlobStore(root);
        return {
          store,
          snapshot: async () => (await listFiles(root)).sort(),
          async overwrite(location, bytes) {
            // A new file rather than a write into the old one: its bytes may be linked elsewhere.
            await rm(join(root, location), { force: true });
            await writeFile(join(root, location), bytes);
          },
          async close() {
            store.close();
            await rm(root, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  const s3 = testS3Settings();
  if (s3) {
    out.push({
      backend: "s3",
      async open() {
        const bucket = `fs-test-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
        const store = await createS3BlobStore({
          ...s3,
          bucket,
          pathStyle: true,
          createBucket: true,
          partSize: opts.s3PartSize,
        });
        const url = new URL(s3.endPoint);
        const admin = new Client({
          endPoint: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          useSSL: url.protocol === "https:",
          accessKey: s3.accessKey,
          secretKey: s3.secretKey,
          region: s3.region,
          pathStyle: true,
        });
        const keys = async () => {
          const names: string[] = [];
          for await (const item of admin.listObjectsV2(bucket, "", true)) {
            const name = (item as { name?: string }).name;
            if (name !== undefined) names.push(name);
          }
          return names;
        };
        const uploads = async () =>
          (await admin.listIncompleteUploadsQuery(bucket, "", "", "", "")).uploads.map((u) => ({
            key: u.key,
            uploadId: u.uploadId,
          }));
        return {
          store,
          async snapshot() {
            const pending = (await uploads()).map((u) => `(multipart upload) ${u.key}`);
            return [...(await keys()), ...pending].sort();
          },
          async overwrite(location, bytes) {
            await admin.putObject(bucket, location, Buffer.from(bytes));
          },
          async close() {
            for (const u of await uploads()) await admin.abortMultipartUpload(bucket, u.key, u.uploadId);
            const names = await keys();
            if (names.length > 0) await admin.removeObjects(bucket, names);
            await admin.removeBucket(bucket);
            store.close();
          },
        };
      },
    });
  }
  return out;
}
