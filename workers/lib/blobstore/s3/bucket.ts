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
//
// This file: the options, the minio clients and how their errors read.
import type { Readable } from "node:stream";
import { Client } from "minio";
import { UnreachableError } from "../../../../core/failure.ts";
import { InvalidArgumentError } from "../errors.ts";

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

export const MiB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export const s3Code = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;
export const isNoSuchKey = (err: unknown) => s3Code(err) === "NoSuchKey" || s3Code(err) === "NotFound";

/**
 * A failed minio request that S3 did not answer itself (S3's answers are S3Errors, minio's argument checks
 * errors of their own names): the connection failed, or S3 kept answering 5xx (minio retries those, then
 * throws a plain Error). Either way the file storage is unavailable (see ../../failure.ts).
 */
export const unreachable = (err: unknown): unknown =>
  err instanceof Error && err.name === "Error"
    ? new UnreachableError("the file storage", { cause: err })
    : err;

/** A node Readable (minio's responses) as a web stream that pulls only as fast as it is read. */
export function toWebStream(source: Readable): ReadableStream<Uint8Array> {
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

export function endpointUrl(endPoint: string): URL {
  const url = new URL(endPoint);
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    (url.pathname !== "/" && url.pathname !== "")
  )
    throw new InvalidArgumentError(`S3 endpoint must be http(s)://host[:port], got ${endPoint}`);
  return url;
}

/** The bucket a store works in, and the clients that reach it. */
export interface Bucket {
  client: Client;
  /** For presigned download URLs: signed for the public endpoint when there is one. */
  publicClient: Client;
  bucket: string;
}

/** The clients for `opts`, and the bucket (created when it does not exist and opts.createBucket). */
export async function openBucket(opts: S3BlobStoreOptions): Promise<Bucket> {
  const url = endpointUrl(opts.endPoint);
  const region = opts.region || "us-east-1";
  const bucket = opts.bucket;
  const createClient = (u: URL) =>
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
  const client = createClient(url);
  // Presigning is local computation: a client for the public endpoint never connects to it.
  const publicClient = opts.publicEndPoint ? createClient(endpointUrl(opts.publicEndPoint)) : client;

  if (opts.createBucket && !(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket, region);
    } catch (err) {
      // Another replica starting at the same time.
      if (s3Code(err) !== "BucketAlreadyOwnedByYou") throw err;
    }
  }
  return { client, publicClient, bucket };
}

/** Refuses a presigned URL's lifetime S3 would not sign. */
export function checkExpiry(expirySeconds: number): void {
  if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS)
    throw new InvalidArgumentError(`a presigned URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds`);
}
