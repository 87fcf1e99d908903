// The S3 blob store (MinIO, Ceph RGW, AWS) through the `minio` client. Keys in its bucket:
//   blobs/<uuid>                 content; the database row maps SHA-256 → key and dedupes
//   parts/<sessionId>/<n>        parts of multipart sessions (also PUT straight by clients, presigned)
// A body is hashed and counted while it is uploaded, in parts of `partSize` bytes (S3 multipart upload,
// `concurrency` parts in flight, their buffers reused) so memory stays flat; a body smaller than one
// part is a single PUT. The object only appears once size and hash check out (CompleteMultipartUpload
// is sent after the check), and every failure aborts the multipart upload: nothing is left behind.
// Staging writes straight to the final key (no server-side copy): commit() only returns that key,
// discard() deletes the object. An orphan (a crash between stage and the database row) is a blobs/ key
// no row names: the garbage collector's business.
//
// (minio's own putObject is not used for streams: it buffers parts of maxObjectSize/10000 ≈ 528 MiB when
// the size is unknown, hangs when the source stream errors, and never aborts its multipart upload.)
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { Client } from "minio";
import { UnreachableError } from "../failure.ts";
import {
  checkPartCount,
  checkPartNumber,
  checkRange,
  checkSessionId,
  chunksOf,
  concatenate,
  MAX_PARTS,
  Meter,
  normalizeStageOptions,
  parsePartName,
} from "./common.ts";
import {
  BlobNotFoundError,
  BlobStoreError,
  InvalidArgumentError,
  InvalidLocationError,
  MissingPartError,
  RangeNotSatisfiableError,
} from "./errors.ts";
import type { BlobBody, BlobInfo, BlobStore, Range, StagedBlob, StageOptions } from "./types.ts";

export interface S3BlobStoreOptions {
  /** `http(s)://host[:port]` */
  endPoint: string;
  accessKey: string;
  secretKey: string;
  /** us-east-1 unless set (Ceph RGW and MinIO answer to it by default). */
  region?: string;
  bucket: string;
  /** Path-style URLs (`host/bucket/key`): MinIO and RGW need them unless DNS is set up for buckets. */
  pathStyle?: boolean;
  /** Create the bucket at start when it does not exist. */
  createBucket?: boolean;
  /** Size of the parts a body is uploaded in (the first 1000; doubles every 1000 parts). ≥ 5 MiB. */
  partSize?: number;
  /** Parts uploaded at the same time while the body is read. */
  concurrency?: number;
  /**
   * The endpoint clients reach the bucket at (`http(s)://host[:port]`), when it differs from endPoint
   * (which this process uses): presigned download URLs are signed for it.
   */
  publicEndPoint?: string;
}

const MiB = 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const BLOB_KEY = /^blobs\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const PART_ATTEMPTS = 3;

const s3Code = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;
const isNoSuchKey = (err: unknown) => s3Code(err) === "NoSuchKey" || s3Code(err) === "NotFound";

/**
 * A failed minio request that S3 did not answer itself (S3's answers are S3Errors, minio's argument checks
 * errors of their own names): the connection failed, or S3 kept answering 5xx (minio retries those, then
 * throws a plain Error). Either way the file storage is unavailable (see ../failure.ts).
 */
const unreachable = (err: unknown): unknown =>
  err instanceof Error && err.name === "Error"
    ? new UnreachableError("the file storage", { cause: err })
    : err;

/** A node Readable (minio's responses) as a web stream that pulls only as fast as it is read. */
function toWebStream(source: Readable): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel() {
        source.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

function endpointUrl(endPoint: string): URL {
  const url = new URL(endPoint);
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    (url.pathname !== "/" && url.pathname !== "")
  )
    throw new InvalidArgumentError(`S3 endpoint must be http(s)://host[:port], got ${endPoint}`);
  return url;
}

export async function createS3BlobStore(opts: S3BlobStoreOptions): Promise<BlobStore> {
  const url = endpointUrl(opts.endPoint);
  const region = opts.region || "us-east-1";
  const bucket = opts.bucket;
  const basePartSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(basePartSize) || basePartSize < 5 * MiB || basePartSize > MAX_PART_SIZE)
    throw new InvalidArgumentError("the S3 part size must be between 5 MiB and 5 GiB");
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const clientFor = (u: URL) =>
    new Client({
      endPoint: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      useSSL: u.protocol === "https:",
      accessKey: opts.accessKey,
      secretKey: opts.secretKey,
      // Set, so that presigning never asks the endpoint for the bucket's region.
      region,
      pathStyle: opts.pathStyle ?? true,
    });
  const client = clientFor(url);
  // Presigning is local computation: a client for the public endpoint never connects to it.
  const publicClient = opts.publicEndPoint ? clientFor(endpointUrl(opts.publicEndPoint)) : client;

  if (opts.createBucket && !(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket, region);
    } catch (err) {
      // Another replica starting at the same time.
      if (s3Code(err) !== "BucketAlreadyOwnedByYou") throw err;
    }
  }

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

  function checkBlobKey(location: string): string {
    if (typeof location !== "string" || !BLOB_KEY.test(location)) throw new InvalidLocationError(location);
    return location;
  }

  const newLocation = () => `blobs/${randomUUID()}`;
  /** Where a session's completion attempt assembles its parts (found again from the attempt alone). */
  const attemptKey = (attempt: string) => checkBlobKey(`blobs/${attempt}`);

  const partPrefix = (sessionId: string) => `parts/${sessionId}/`;
  const partKey = (sessionId: string, n: number) => `parts/${sessionId}/${n}`;

  async function objectSize(key: string): Promise<number | undefined> {
    try {
      return (await client.statObject(bucket, key)).size;
    } catch (err) {
      if (isNoSuchKey(err)) return undefined;
      throw err;
    }
  }

  async function stage(body: BlobBody, stageOpts?: StageOptions): Promise<StagedBlob> {
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
  }

  async function abortStage(location: string): Promise<void> {
    const key = checkBlobKey(location);
    const { uploads } = await client.listIncompleteUploadsQuery(bucket, key, "", "", "");
    for (const u of uploads) if (u.key === key) await client.abortMultipartUpload(bucket, key, u.uploadId);
  }

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
    backend: "s3",
    stage,

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

    async putPart(sessionId, partNumber, body, partOpts) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      // S3 replaces an object atomically: a re-sent part is the new one once complete, never a mix.
      return upload(
        partKey(sessionId, partNumber),
        body,
        normalizeStageOptions({
          maxBytes: partOpts.maxBytes,
          expectedSha256: partOpts.expectedSha256,
          expectedSha1: partOpts.expectedSha1,
        }),
      );
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

    newLocation,

    async ping() {
      if (!(await client.bucketExists(bucket))) throw new BlobStoreError("the bucket does not exist");
    },

    abortStage,

    async presignPart(sessionId, partNumber, expirySeconds) {
      checkSessionId(sessionId);
      checkPartNumber(partNumber);
      if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS)
        throw new InvalidArgumentError(`a presigned URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds`);
      return client.presignedUrl("PUT", bucket, partKey(sessionId, partNumber), expirySeconds);
    },

    async presignGet(location, expirySeconds, response = {}) {
      const key = checkBlobKey(location);
      if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS)
        throw new InvalidArgumentError(`a presigned URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds`);
      const overrides: Record<string, string> = {};
      if (response.contentType) overrides["response-content-type"] = response.contentType;
      if (response.contentDisposition)
        overrides["response-content-disposition"] = response.contentDisposition;
      return publicClient.presignedGetObject(bucket, key, expirySeconds, overrides);
    },
  };
}
