// The S3 blob store: the core, the parts, and the S3 capabilities (presigning, relocation, ping),
// composed from the files of this folder.
import { BlobStoreError, InvalidArgumentError } from "../errors.ts";
import type {
  BlobStoreCore,
  ListedObject,
  MultipartParts,
  ObjectListing,
  Pingable,
  Presigning,
  Relocation,
} from "../types.ts";
import {
  checkExpiry,
  DEFAULT_PART_SIZE,
  MAX_PART_SIZE,
  MiB,
  openBucket,
  type S3BlobStoreOptions,
} from "./bucket.ts";
import { checkBlobKey, isBlobKey, newLocation } from "./keys.ts";
import { s3Objects } from "./objects.ts";
import { s3Parts } from "./parts.ts";
import { createUpload } from "./upload.ts";

/** What an S3 store is: the core, the parts, presigning, relocation, a ping and a listing. */
export type S3BlobStore = BlobStoreCore & MultipartParts & Presigning & Relocation & Pingable & ObjectListing;

export async function createS3BlobStore(opts: S3BlobStoreOptions): Promise<S3BlobStore> {
  const basePartSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(basePartSize) || basePartSize < 5 * MiB || basePartSize > MAX_PART_SIZE)
    throw new InvalidArgumentError("the S3 part size must be between 5 MiB and 5 GiB");
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const s3 = await openBucket(opts);
  const { client, publicClient, bucket } = s3;
  const upload = createUpload(s3, basePartSize, concurrency);
  const objects = s3Objects(s3, upload);
  const parts = s3Parts(s3, upload, objects.stage, objects.abortStage);

  return {
    backend: "s3",
    ...objects,
    ...parts,
    newLocation,

    async ping() {
      if (!(await client.bucketExists(bucket))) throw new BlobStoreError("the bucket does not exist");
    },

    /** ListObjectsV2 under blobs/ (pages of 1000 keys, streamed); parts/ and unfinished uploads are not objects there. */
    async *listObjects(): AsyncGenerator<ListedObject> {
      for await (const item of client.listObjectsV2(bucket, "blobs/", true)) {
        const o = item as { name?: string; size?: number; lastModified?: Date };
        if (o.name === undefined || !isBlobKey(o.name)) continue;
        yield { location: o.name, size: o.size ?? 0, changedAt: o.lastModified?.getTime() ?? Date.now() };
      }
    },

    async presignGet(location, expirySeconds, response = {}) {
      const key = checkBlobKey(location);
      checkExpiry(expirySeconds);
      const overrides: Record<string, string> = {};
      if (response.contentType) overrides["response-content-type"] = response.contentType;
      if (response.contentDisposition)
        overrides["response-content-disposition"] = response.contentDisposition;
      return publicClient.presignedGetObject(bucket, key, expirySeconds, overrides);
    },

    /** The S3 store has no timers of its own. */
    close() {},
  };
}
