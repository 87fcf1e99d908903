// Why a transfer attempt failed, which decides what becomes of the job:
//   - S3 failed (unreachable, erroring, its bucket gone): retried with backoff for the queue's time
//     budget; a dead letter of this cause is re-driven by itself once S3 answers again (redrive.ts).
//   - the local copy is gone: no retry can bring it back, so a dead letter at once.
//   - anything else (meta unavailable, a copy that reads back wrong, local bytes that differ from
//     their record): retried for the time budget; a dead letter of it waits for an operator.
import { BlobHashMismatchError, BlobNotFoundError, BlobSizeMismatchError } from "../lib/blobstore/errors.ts";
import type { FailOptions } from "../lib/queue/types.ts";

/** The cause kept with the dead letters of jobs that failed because S3 did. */
export const S3_FAILED = "s3";

/** An operation on the S3 store failed. */
class S3Error extends Error {
  override name = "S3Error";
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/**
 * Runs an operation on the S3 store, marking its failures as S3's — except a size or hash mismatch, which
 * is about the bytes sent (the local copy), not about S3.
 */
export async function onS3<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof BlobHashMismatchError || err instanceof BlobSizeMismatchError) throw err;
    throw new S3Error(err);
  }
}

/** What the queue is told about a failed attempt. */
export function failureOf(err: unknown): FailOptions {
  if (err instanceof S3Error) return { cause: S3_FAILED };
  if (err instanceof BlobNotFoundError) return { permanent: true, cause: "local-copy-gone" };
  return {};
}

/** The text kept with the job: what went wrong, saying so when it was S3 or the local copy. */
export function describe(err: unknown): string {
  if (err instanceof S3Error) return `S3: ${err.message}`;
  if (err instanceof BlobNotFoundError) return "the local copy of the content is gone: nothing to move";
  return err instanceof Error ? err.message : String(err);
}
