// Uploading a body to an S3 key while it is metered: in parts of a growing size (S3 multipart upload,
// `concurrency` parts in flight, their buffers reused) so memory stays flat; a body smaller than one part
// is a single PUT. The object only appears once size and hash check out, and every failure aborts the
// multipart upload.
import { chunksOf, MAX_PARTS, Meter } from "../common.ts";
import { BlobStoreError } from "../errors.ts";
import type { BlobBody, BlobInfo, StageOptions } from "../types.ts";
import type { Bucket } from "./bucket.ts";
import { MAX_PART_SIZE } from "./bucket.ts";

const PART_ATTEMPTS = 3;

export type Upload = (key: string, body: BlobBody, limits: StageOptions) => Promise<BlobInfo>;

/** The upload function of a store on `s3`, with parts of `basePartSize` (doubling every 1000). */
export function createUpload({ client, bucket }: Bucket, basePartSize: number, concurrency: number): Upload {
  /** Part n's size: doubles every 1000 parts, so 10 000 parts of 8 MiB onwards reach S3's 5 TiB. */
  const partSizeOf = (n: number) => Math.min(MAX_PART_SIZE, basePartSize * 2 ** Math.floor((n - 1) / 1000));

  /**
   * PUTs one part of a multipart upload. Through a presigned URL and fetch rather than minio's
   * uploadPart: over plain HTTP minio signs the payload (one more SHA-256 of every byte on this thread)
   * and goes through node:http; this halves the CPU per byte and doubles throughput (measured on RGW).
   * Network errors and 5xx answers are retried (a part PUT is idempotent).
   */
  async function putPartBytes(key: string, uploadId: string, n: number, bytes: Uint8Array): Promise<string> {
    const url = await client.presignedUrl("PUT", bucket, key, 900, { partNumber: String(n), uploadId });
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method: "PUT", body: bytes as Uint8Array<ArrayBuffer> });
      } catch (err) {
        if (attempt >= PART_ATTEMPTS) throw err;
        await Bun.sleep(100 * 2 ** attempt);
        continue;
      }
      const text = await res.text();
      if (res.ok) return (res.headers.get("etag") ?? "").replace(/^"|"$/g, "");
      if (res.status < 500 || attempt >= PART_ATTEMPTS) {
        const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "";
        throw new BlobStoreError(`S3 UploadPart answered ${res.status} ${code}`.trim());
      }
      await Bun.sleep(100 * 2 ** attempt);
    }
  }

  /**
   * Uploads a body to `key` while metering it. The object exists only if this resolves; every failure
   * (limits, mismatches, the body's own error, S3's) aborts the multipart upload.
   */
  async function upload(key: string, body: BlobBody, limits: StageOptions): Promise<BlobInfo> {
    const meter = new Meter(limits);
    let buffer: Buffer | undefined; // the part being filled
    let filled = 0;
    // Part buffers whose upload finished, for the next parts: (concurrency + 1) buffers in all, instead
    // of a new one per part left to the garbage collector.
    const spare: Buffer[] = [];
    let partNumber = 0;
    let uploadId: string | undefined;
    const etags: { part: number; etag: string }[] = [];
    // Parts being uploaded; they never reject: the first failure is kept in `failure` and rethrown.
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const checkParts = () => {
      if (failure) throw failure.error;
    };

    const sendPart = async (part: Buffer, length: number) => {
      uploadId ??= await client.initiateNewMultipartUpload(bucket, key, {});
      const n = ++partNumber;
      if (n > MAX_PARTS) throw new BlobStoreError("the content needs more than 10 000 parts");
      const sent: Promise<void> = putPartBytes(key, uploadId, n, part.subarray(0, length))
        .then(
          (etag) => {
            etags.push({ part: n, etag });
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => {
          inFlight.delete(sent);
          spare.push(part);
        });
      inFlight.add(sent);
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      checkParts();
    };

    try {
      for await (const chunk of chunksOf(body)) {
        meter.add(chunk);
        let offset = 0;
        while (offset < chunk.byteLength) {
          if (!buffer) {
            const size = partSizeOf(partNumber + 1);
            const i = spare.findIndex((b) => b.byteLength === size);
            buffer = i >= 0 ? spare.splice(i, 1)[0] : undefined;
            buffer ??= Buffer.allocUnsafe(size);
          }
          const n = Math.min(buffer.byteLength - filled, chunk.byteLength - offset);
          buffer.set(chunk.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
          if (filled === buffer.byteLength) {
            const part = buffer;
            buffer = undefined;
            filled = 0;
            await sendPart(part, part.byteLength);
          }
        }
      }
      const info = meter.finish(); // size and hash are checked before anything becomes visible
      if (uploadId === undefined) {
        // Smaller than one part: a single PUT.
        await client.putObject(bucket, key, (buffer ?? Buffer.alloc(0)).subarray(0, filled), filled);
        return info;
      }
      if (buffer && filled > 0) await sendPart(buffer, filled);
      buffer = undefined;
      await Promise.all(inFlight);
      checkParts();
      if (etags.length !== partNumber) throw new BlobStoreError("a part upload went missing");
      etags.sort((a, b) => a.part - b.part);
      // (Ceph RGW answers this with an empty ETag; nothing here uses it.)
      await client.completeMultipartUpload(bucket, key, uploadId, etags);
      return info;
    } catch (err) {
      buffer = undefined;
      await Promise.all(inFlight);
      if (uploadId !== undefined) {
        try {
          await client.abortMultipartUpload(bucket, key, uploadId);
        } catch {
          // The first error is the one to report; a bucket lifecycle rule removes stale uploads.
        }
      }
      throw err;
    }
  }

  return upload;
}
