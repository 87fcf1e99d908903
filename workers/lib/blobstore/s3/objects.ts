// Content objects of an S3 store: staging writes straight to the final key (no server-side copy):
// commit() only returns that key, discard() deletes the object. An orphan (a crash between stage and the
// database row) is a blobs/ key no row names: the garbage collector's business.
import { checkRange, normalizeStageOptions } from "../common.ts";
import { BlobNotFoundError, BlobStoreError, RangeNotSatisfiableError } from "../errors.ts";
import type { BlobBody, Range, StagedBlob, StageOptions } from "../types.ts";
import { type Bucket, isNoSuchKey, s3Code, toWebStream, unreachable } from "./bucket.ts";
import { checkBlobKey, newLocation } from "./keys.ts";
import type { Upload } from "./upload.ts";

/** The core of an S3 store (stage, read, stat, delete) and abortStage (its Relocation capability). */
export function s3Objects({ client, bucket }: Bucket, upload: Upload) {
  async function objectSize(key: string): Promise<number | undefined> {
    try {
      return (await client.statObject(bucket, key)).size;
    } catch (err) {
      if (isNoSuchKey(err)) return undefined;
      throw err;
    }
  }

  return {
    async stage(body: BlobBody, stageOpts?: StageOptions): Promise<StagedBlob> {
      const limits = normalizeStageOptions(stageOpts);
      const key = limits.location === undefined ? newLocation() : checkBlobKey(limits.location);
      const info = await upload(key, body, limits);
      let committed = false;
      let discarded = false;
      return {
        ...info,
        async commit() {
          if (discarded) throw new BlobStoreError("the staged blob was discarded");
          committed = true;
          return key;
        },
        async discard() {
          if (committed || discarded) return;
          await client.removeObject(bucket, key);
          discarded = true;
        },
      };
    },

    async abortStage(location: string): Promise<void> {
      const key = checkBlobKey(location);
      const { uploads } = await client.listIncompleteUploadsQuery(bucket, key, "", "", "");
      for (const u of uploads) if (u.key === key) await client.abortMultipartUpload(bucket, key, u.uploadId);
    },

    async read(location: string, range?: Range): Promise<ReadableStream<Uint8Array>> {
      const key = checkBlobKey(location);
      checkRange(range);
      try {
        const source = range
          ? await client.getPartialObject(bucket, key, range.start, range.end - range.start + 1)
          : await client.getObject(bucket, key);
        return toWebStream(source);
      } catch (err) {
        if (isNoSuchKey(err)) throw new BlobNotFoundError();
        if (s3Code(err) === "InvalidRange") {
          const size = await objectSize(key);
          if (size === undefined) throw new BlobNotFoundError();
          throw new RangeNotSatisfiableError(size);
        }
        throw unreachable(err);
      }
    },

    async stat(location: string) {
      const size = await objectSize(checkBlobKey(location));
      return size === undefined ? undefined : { size };
    },

    async delete(location: string) {
      await client.removeObject(bucket, checkBlobKey(location));
    },
  };
}
