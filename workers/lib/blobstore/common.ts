// What both backends share: argument checks, and the meter that hashes, counts and limits a body while
// it streams through.

import { isHex } from "../validate.ts";
import {
  BlobHashMismatchError,
  BlobSizeMismatchError,
  BlobTooLargeError,
  InvalidArgumentError,
  InvalidPartError,
} from "./errors.ts";
import { crc32Value, type Hasher, hasherFor } from "./hashers.ts";
import type { BlobBody, BlobInfo, Range, StageOptions } from "./types.ts";

export const MAX_PARTS = 10_000;
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function checkSessionId(sessionId: string): void {
  if (typeof sessionId !== "string" || !SESSION_ID.test(sessionId))
    throw new InvalidPartError("a session id is 16 to 64 characters of A-Z a-z 0-9 _ -");
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
    throw new InvalidPartError(`a part number is an integer from 1 to ${MAX_PARTS}`);
}

export function checkPartCount(partCount: number): void {
  if (!Number.isInteger(partCount) || partCount < 1 || partCount > MAX_PARTS)
    throw new InvalidPartError(`a part count is an integer from 1 to ${MAX_PARTS}`);
}

/** The part number a stored part's name stands for, or undefined for anything else. */
export function parsePartName(name: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(name)) return undefined;
  const n = Number(name);
  return n <= MAX_PARTS ? n : undefined;
}

export function checkRange(range: Range | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
    throw new InvalidArgumentError("a range needs integers 0 <= start <= end");
}

function checkLimit(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
}

/** Validated stage options, with the expected hash in lower case. */
export function normalizeStageOptions(opts: StageOptions = {}): StageOptions {
  checkLimit("maxBytes", opts.maxBytes);
  checkLimit("expectedSize", opts.expectedSize);
  let expectedSha256: string | undefined;
  if (opts.expectedSha256 !== undefined) {
    expectedSha256 = opts.expectedSha256.toLowerCase();
    if (!isHex(expectedSha256, 64))
      throw new InvalidArgumentError("an expected SHA-256 is 64 hexadecimal digits");
  }
  let expectedSha1: string | undefined;
  if (opts.expectedSha1 !== undefined) {
    expectedSha1 = opts.expectedSha1.toLowerCase();
    if (!isHex(expectedSha1, 40))
      throw new InvalidArgumentError("an expected SHA-1 is 40 hexadecimal digits");
  }
  return {
    maxBytes: opts.maxBytes,
    expectedSize: opts.expectedSize,
    expectedSha256,
    expectedSha1,
    location: opts.location,
    skipSha1: opts.skipSha1,
  };
}

/**
 * Counts and limits the bytes of one body and, unless the hashes come from elsewhere (digest lanes, see
 * digest.ts), hashes them (SHA-256 and SHA-1, incrementally: never a whole body in memory). `add` throws as
 * soon as a limit is crossed, `finish` checks the announced size and hash.
 */
export class Meter {
  private readonly sha256?: Hasher;
  private readonly sha1?: Hasher;
  private readonly crc32?: Hasher;
  size = 0;

  constructor(
    private readonly opts: StageOptions,
    hashHere = true,
  ) {
    if (hashHere) {
      this.sha256 = hasherFor("sha256");
      this.sha1 = hasherFor("sha1");
      this.crc32 = hasherFor("crc32");
    }
  }

  add(chunk: Uint8Array): void {
    const size = this.size + chunk.byteLength;
    const { maxBytes, expectedSize } = this.opts;
    if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLargeError(maxBytes);
    if (expectedSize !== undefined && size > expectedSize)
      throw new BlobSizeMismatchError(expectedSize, size);
    this.size = size;
    this.sha256?.update(chunk);
    this.sha1?.update(chunk);
    this.crc32?.update(chunk);
  }

  /** The body's info; `hashes` when they were computed elsewhere. */
  finish(hashes?: { sha256: string; sha1: string; crc32?: string }): BlobInfo {
    const crc32 = crc32Value(hashes ? hashes.crc32 : this.crc32?.digest());
    const info: BlobInfo = {
      sha256: hashes?.sha256 ?? this.sha256?.digest() ?? "",
      sha1: hashes?.sha1 ?? this.sha1?.digest() ?? "",
      size: this.size,
      ...(crc32 !== undefined ? { crc32 } : {}),
    };
    const { expectedSize, expectedSha256, expectedSha1 } = this.opts;
    if (expectedSize !== undefined && info.size !== expectedSize)
      throw new BlobSizeMismatchError(expectedSize, info.size);
    if (expectedSha256 !== undefined && info.sha256 !== expectedSha256)
      throw new BlobHashMismatchError(expectedSha256, info.sha256);
    if (expectedSha1 !== undefined && info.sha1 !== expectedSha1)
      throw new BlobHashMismatchError(expectedSha1, info.sha1, "SHA-1");
    return info;
  }
}

/**
 * The non-empty chunks of a body. Leaving the loop early (a limit crossed, a failed write) cancels a
 * ReadableStream body, so an oversized request is not read to its end.
 */
export async function* chunksOf(body: BlobBody): AsyncGenerator<Uint8Array> {
  for await (const chunk of body as AsyncIterable<unknown>) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError("a blob body must yield Uint8Array chunks");
    if (chunk.byteLength > 0) yield chunk;
  }
}

/**
 * A request body whose chunks are freed as soon as the consumer asks for the next one, rather than when
 * the garbage collector gets to them: Bun hands out a new 64-128 KiB buffer per read, and at 1 GB/s the
 * collector lets 50-100 MiB of read chunks pile up before it frees them. Only for a body whose chunks
 * nothing else holds (an HTTP request's), given to a blob store (done with each chunk when it asks for
 * the next, see BlobBody). A chunk that cannot be detached is left to the collector.
 */
export async function* freeingChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    yield chunk;
    const buffer = chunk.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
    // A view of part of a buffer may share it with others: only a whole buffer is ours to free.
    if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || !buffer.transfer) continue;
    try {
      buffer.transfer(0); // detaches the buffer, which frees its memory now
    } catch {
      // not detachable
    }
  }
}

/** The parts 1..count, one after the other, each opened only when the previous one is done. */
export async function* concatenate(
  count: number,
  open: (n: number) => Promise<BlobBody>,
): AsyncGenerator<Uint8Array> {
  for (let n = 1; n <= count; n++) yield* chunksOf(await open(n));
}
