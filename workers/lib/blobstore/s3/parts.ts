// Parts of multipart sessions in an S3 store: one object each under parts/<sessionId>/, PUT through this
// process or straight by clients (presigned); assembly streams them in order into a content object.
import {
  checkPartCount,
  checkPartNumber,
  checkSessionId,
  concatenate,
  normalizeStageOptions,
  parsePartName,
} from "../common.ts";
import { BlobNotFoundError, BlobStoreError, MissingPartError } from "../errors.ts";
import type { BlobBody, MultipartParts, StagedBlob, StageOptions } from "../types.ts";
import { type Bucket, checkExpiry, isNoSuchKey } from "./bucket.ts";
import { attemptKey, partKey, partPrefix } from "./keys.ts";
import type { Upload } from "./upload.ts";

type Stage = (body: BlobBody, opts?: StageOptions) => Promise<StagedBlob>;

/** An S3 store's parts, and presignPart (its Presigning capability's half for parts). */
export function s3Parts(
  { client, bucket }: Bucket,
  upload: Upload,
  stage: Stage,
  abortStage: (location: string) => Promise<void>,
): MultipartParts & {
  presignPart(sessionId: string, partNumber: number, expirySeconds: number): Promise<string>;
} {
  async function listParts(sessionId: string): Promise<{ partNumber: number; size: number }[]> {
    checkSessionId(sessionId);
    const parts: { partNumber: number; size: number }[] = [];
    const prefix = partPrefix(sessionId);
    for await (const item of client.listObjectsV2(bucket, prefix, true)) {
      const name = (item as { name?: string }).name;
      const partNumber = name === undefined ? undefined : parsePartName(name.slice(prefix.length));
      if (partNumber !== undefined) parts.push({ partNumber, size: (item as { size: number }).size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  return {
    async putPart(sessionId, partNumber, body, partOpts) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      // S3 replaces an object atomically: a re-sent part is the new one once complete, never a mix.
      const { crc32: _, ...info } = await upload(
        partKey(sessionId, partNumber),
        body,
        normalizeStageOptions({
          maxBytes: partOpts.maxBytes,
          expectedSha256: partOpts.expectedSha256,
          expectedSha1: partOpts.expectedSha1,
        }),
      );
      return info; // a part's CRC-32 is of no use (BlobInfo.crc32): the whole file's is summed at assembly
    },

    listParts,

    async readPart(sessionId, partNumber) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      try {
        return (await client.getObject(bucket, partKey(sessionId, partNumber))) as AsyncIterable<Uint8Array>;
      } catch (err) {
        if (isNoSuchKey(err)) throw new BlobNotFoundError();
        throw err;
      }
    },

    async assembleParts(sessionId, partCount, assembleOpts) {
      checkSessionId(sessionId);
      checkPartCount(partCount);
      const location = assembleOpts?.attempt === undefined ? undefined : attemptKey(assembleOpts.attempt);
      const have = new Set((await listParts(sessionId)).map((p) => p.partNumber));
      const missing: number[] = [];
      for (let n = 1; n <= partCount; n++) if (!have.has(n)) missing.push(n);
      if (missing.length > 0) throw new MissingPartError(missing);
      return stage(
        concatenate(partCount, async (n) => {
          try {
            return (await client.getObject(bucket, partKey(sessionId, n))) as AsyncIterable<Uint8Array>;
          } catch (err) {
            if (isNoSuchKey(err)) throw new MissingPartError([n]); // deleted meanwhile
            throw err;
          }
        }),
        { location },
      );
    },

    async discardAssembly(sessionId, attempt) {
      checkSessionId(sessionId);
      const key = attemptKey(attempt);
      await abortStage(key);
      await client.removeObject(bucket, key);
    },

    async deleteParts(sessionId) {
      checkSessionId(sessionId);
      const names: string[] = [];
      for await (const item of client.listObjectsV2(bucket, partPrefix(sessionId), true)) {
        const name = (item as { name?: string }).name;
        if (name !== undefined) names.push(name);
      }
      if (names.length === 0) return;
      const results = await client.removeObjects(bucket, names);
      const failed = results.filter((r) => r?.Error?.Code && r.Error.Code !== "NoSuchKey");
      if (failed.length > 0) throw new BlobStoreError(`could not delete ${failed.length} part(s)`);
    },

    async presignPart(sessionId, partNumber, expirySeconds) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      checkExpiry(expirySeconds);
      return client.presignedUrl("PUT", bucket, partKey(sessionId, partNumber), expirySeconds);
    },
  };
}
