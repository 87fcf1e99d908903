// The blob store: where file bytes live. Content is identified by SHA-256 (SHA-1 is kept for the legacy
// API's `filehash`). Two backends implement it: local disk (content-addressed, the embedded default) and
// S3 (MinIO, Ceph RGW, AWS). Every byte is streamed and hashed while it is written: memory stays flat
// whatever the size.

export interface BlobInfo {
  /** Lower-case hex. */
  sha256: string;
  /** Lower-case hex; "" when it was not computed (StageOptions.skipSha1): not known yet. */
  sha1: string;
  size: number;
  /**
   * The CRC-32 (the ZIP checksum), computed with the SHA-256 where a store stages a whole body or assembles
   * parts; absent where it was not (a part, a store that did not).
   */
  crc32?: number;
}

export interface StagedBlob extends BlobInfo {
  /**
   * Makes the bytes durable under their final location and returns that location (backend-specific).
   * Local: atomic rename to `blobs/<aa>/<bb>/<sha256>.<random>`. S3: the object key. Each stored copy has
   * its own location, so deleting one copy never removes another's bytes; the database keeps one copy per
   * SHA-256. Calling it again returns the same location.
   */
  commit(): Promise<string>;
  /** Removes the staged bytes. Idempotent; after commit() it does nothing. */
  discard(): Promise<void>;
}

/** A byte range with an inclusive end, like HTTP's `Range: bytes=start-end`. */
export interface Range {
  start: number;
  end: number;
}

/**
 * The bytes to store. A store is done with a chunk (has copied or written it) when it asks for the next
 * one: the data plane frees request chunks then (freeingChunks in common.ts).
 */
export type BlobBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface StageOptions {
  /** Larger bodies are refused with BlobTooLargeError as soon as they cross the limit. */
  maxBytes?: number;
  /** A different size is refused with BlobSizeMismatchError (a longer body as soon as it is longer). */
  expectedSize?: number;
  /** A different SHA-256 (hex, any case) is refused with BlobHashMismatchError. */
  expectedSha256?: string;
  /** A different SHA-1 (hex, any case) is refused with BlobHashMismatchError (the SHA-1 is computed then). */
  expectedSha1?: string;
  /**
   * Stores with the Relocation capability (S3) only: the key to write (`blobs/<uuid>`, see
   * Relocation.newLocation) instead of a fresh random one, so that a caller can record where the bytes
   * will land before they do (the transfer worker cleans up after an interrupted copy that way). The
   * local store picks its own names and refuses this.
   */
  location?: string;
  /**
   * No SHA-1 (BlobInfo.sha1 is ""): only the legacy API's `filehash` needs it, so modern uploads leave it
   * to a background backfill (workers/upload/sha1.ts) instead of paying ~0.6 s of CPU per GiB on the
   * request. The local store honours it; S3 computes SHA-1 regardless (it hashes on the event loop while
   * uploading, which costs less than reading the object back later).
   */
  skipSha1?: boolean;
}

export interface PartOptions {
  /** The part's size limit; callers pass the part's exact size (a shorter part is stored as it is). */
  maxBytes: number;
  /**
   * Where the part starts in the whole file: (n - 1) × the session's part size. The local store writes the
   * part there, in the session's one file, so that completion moves no bytes; S3 ignores it.
   */
  offset: number;
  /** Verified (BlobHashMismatchError) and so computed; without it the local store does not hash the part. */
  expectedSha256?: string;
  /**
   * Verified (BlobHashMismatchError) before the part counts, as expectedSha256: a part that fails is not
   * stored (the legacy API's chunk check).
   */
  expectedSha1?: string;
  /**
   * No SHA-1 (BlobInfo.sha1 is ""): nobody checks a part's SHA-1 unless the client sent one, and it is
   * ~0.6 s of CPU per GiB. A backend may ignore it.
   */
  skipSha1?: boolean;
  /**
   * The whole file's SHA-1 will be wanted at assembly (the session announced one): the local store's
   * whole-file hash, computed as parts arrive, computes it too.
   */
  wholeSha1?: boolean;
  /**
   * When the body fails mid-way, keep what arrived as a shorter part (tus: the client resumes from the
   * offset it is told) instead of leaving the part absent. Local store only.
   */
  keepPartial?: boolean;
}

// A store is a core every backend has (BlobStoreCore), the multipart parts every backend has too
// (MultipartParts), and optional capabilities a backend adds (as tusd's DataStore and its extensions):
// callers ask for one with its type guard (hasFileReads, canPresign, …) rather than by backend name.

/** What every backend does: stage, commit (StagedBlob), read, delete; and close. */
export interface BlobStoreCore {
  readonly backend: "local" | "s3";
  /**
   * Streams `body` into a temporary object while computing SHA-256, SHA-1 and size. Rejects with
   * BlobTooLargeError beyond maxBytes, BlobSizeMismatchError when expectedSize differs,
   * BlobHashMismatchError when expectedSha256 differs, or the body's own error when it fails mid-way
   * (client disconnect); in every one of these cases nothing is left behind.
   */
  stage(body: BlobBody, opts?: StageOptions): Promise<StagedBlob>;
  /**
   * Streams `range` (or all) of a committed blob. An end past the last byte is clamped (as in HTTP);
   * a start past it rejects with RangeNotSatisfiableError; a missing blob with BlobNotFoundError.
   */
  read(location: string, range?: Range): Promise<ReadableStream<Uint8Array>>;
  stat(location: string): Promise<{ size: number } | undefined>;
  /** Idempotent. */
  delete(location: string): Promise<void>;

  /** Stops the store's timers (sweeps); the store must not be used afterwards. Idempotent. */
  close(): void;
}

/** The parts of a multipart session: every backend has them. */
export interface MultipartParts {
  // Parts of a multipart session. Session ids match [A-Za-z0-9_-]{16,64}; part numbers are integers
  // 1..10000 (InvalidPartError otherwise).

  /**
   * Stores one part; re-sending a part replaces it (idempotent). Local store: PartsBusyError while the same
   * part is being written by another request or the session is being assembled, SessionSealedError once
   * its content became a blob; a write that fails leaves the part absent (see keepPartial).
   */
  putPart(sessionId: string, partNumber: number, body: BlobBody, opts: PartOptions): Promise<BlobInfo>;
  /** The bytes of one stored part (BlobNotFoundError when it is absent). */
  readPart(sessionId: string, partNumber: number): Promise<AsyncIterable<Uint8Array>>;
  /** The parts stored so far, by part number. */
  listParts(sessionId: string): Promise<{ partNumber: number; size: number }[]>;
  /**
   * Parts 1..partCount in order as a staged blob with its hashes, so that the caller can check the whole
   * file's hash before commit. MissingPartError when one is absent. With skipSha1, as
   * StageOptions.skipSha1. The staged blob must be committed or discarded; discarding keeps the parts.
   * Local store: the session's file is the blob (commit links it into place), and it has been hashed in
   * the background as parts 1..k arrived, so completion hashes only what was not hashed yet (all of it
   * after a restart or for parts stored by another process). PartsBusyError while a part is being
   * written; no part can be written from then until commit or discard. `attempt` (a UUID) names the
   * completion attempt, so that discardAssembly can find what it left if its process dies: S3 assembles
   * into the key `blobs/<attempt>`; the local store records the names it links the session's file to.
   */
  assembleParts(
    sessionId: string,
    partCount: number,
    opts?: { skipSha1?: boolean; attempt?: string },
  ): Promise<StagedBlob>;
  /**
   * Removes what a completion attempt of the session left when its process died before the file was
   * recorded (S3: its object or unfinished upload at `blobs/<attempt>`; local: the session file's names
   * under blobs/). Only for a session that did not complete: a completed session's blob is the content.
   * Idempotent; the parts stay. Local store: PartsBusyError while the session is being assembled.
   */
  discardAssembly(sessionId: string, attempt: string): Promise<void>;
  /** Idempotent. */
  deleteParts(sessionId: string): Promise<void>;
}

/** A committed blob opened for reads at positions (FileReads.openBlob); the caller closes it. */
export interface OpenBlob {
  /** Reads up to `into.byteLength` bytes at `position` into `into`; how many were read (0 at the end). */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

/** Local disk: the bytes are files this process reads directly. */
export interface FileReads {
  /**
   * A committed blob opened for reads into the caller's own buffer (a folder ZIP reuses one for every
   * chunk: no fresh memory per chunk, unlike read()'s stream). BlobNotFoundError for a missing blob.
   */
  openBlob(location: string): Promise<OpenBlob>;
  /**
   * `range` (or all) of a committed blob as a Blob that a Response sends without copying the bytes
   * through JavaScript (local disk: a Bun.file slice, which Bun.serve sends with sendfile(2)). The range is
   * not checked against the size: callers pass one within it. InvalidLocationError for a bad location.
   */
  readBlob(location: string, range?: Range): Blob;
  /**
   * The SHA-1 of a committed blob, computed off the event loop (local disk: a digest lane reads the file).
   * Without this capability callers hash read(). BlobNotFoundError for a missing blob.
   */
  sha1Of(location: string): Promise<string>;
  /**
   * A committed blob's path relative to the store's root (`blobs/…`), for a web server that serves the
   * root's blobs/ folder to send it (DOWNLOAD_ACCEL). InvalidLocationError for anything else.
   */
  relativePath(location: string): string;
}

/** S3: clients are sent to the bucket with presigned URLs. */
export interface Presigning {
  /** A presigned PUT URL for a part (S3 only; the local backend has none). */
  presignPart(sessionId: string, partNumber: number, expirySeconds: number): Promise<string>;
  /**
   * A presigned GET URL of a committed blob (S3 only), on the public endpoint when one is configured.
   * The response overrides let the bucket answer with the file's name and type.
   */
  presignGet(
    location: string,
    expirySeconds: number,
    response?: { contentType?: string; contentDisposition?: string },
  ): Promise<string>;
}

/** S3: a caller names the location before staging (StageOptions.location) and cleans it up if it dies. */
export interface Relocation {
  /** S3 only: a fresh location for StageOptions.location. */
  newLocation(): string;
  /**
   * S3 only: cleans up after a stage to `location` that never finished (its process died): aborts the
   * unfinished multipart uploads to that key. Idempotent; a finished object is left alone (delete it).
   */
  abortStage(location: string): Promise<void>;
}

/** Local disk: a limit on the space for new content. */
export interface FreeSpace {
  /**
   * Bytes free for new content (local disk: what statfs says unprivileged writers may still use), or
   * absent where the backend has no such limit (S3).
   */
  availableBytes(): Promise<number>;
}

/** S3: a cheap liveness probe. */
export interface Pingable {
  /**
   * S3 only: one cheap request (HEAD of the bucket) that resolves when the bucket answers and rejects
   * when it does not (unreachable, failing, or gone): the transfer worker's "is S3 back?" probe.
   */
  ping(): Promise<void>;
}

/** A committed object a listing found (ObjectListing). */
export interface ListedObject {
  location: string;
  size: number;
  /**
   * When the object last changed (ms since the epoch). Local disk: the later of the file's modification
   * and status change, so that a session's file linked into blobs/ by a completion (link(2) changes the
   * status time) counts as new even when its parts were written long ago.
   */
  changedAt: number;
}

/** Every backend: a walk over its committed objects (the consistency checker's search for orphans). */
export interface ObjectListing {
  /**
   * The committed objects, every location a blob row could name (blobs/ only: never tmp/ or a session's
   * parts), one at a time so that memory stays flat; in no particular order.
   */
  listObjects(): AsyncIterable<ListedObject>;
}

/**
 * A store as callers hold it: the core and parts, with each optional capability's methods present only
 * on the backends that have it (test with the guards below).
 */
export type BlobStore = BlobStoreCore &
  MultipartParts &
  Partial<FileReads & Presigning & Relocation & FreeSpace & Pingable & ObjectListing>;

export const hasFileReads = (s: BlobStore): s is BlobStore & FileReads =>
  typeof s.readBlob === "function" && typeof s.sha1Of === "function" && typeof s.openBlob === "function";
export const canPresign = (s: BlobStore): s is BlobStore & Presigning =>
  typeof s.presignPart === "function" && typeof s.presignGet === "function";
export const canRelocate = (s: BlobStore): s is BlobStore & Relocation =>
  typeof s.newLocation === "function" && typeof s.abortStage === "function";
export const hasFreeSpace = (s: BlobStore): s is BlobStore & FreeSpace =>
  typeof s.availableBytes === "function";
export const canPing = (s: BlobStore): s is BlobStore & Pingable => typeof s.ping === "function";
export const canList = (s: BlobStore): s is BlobStore & ObjectListing => typeof s.listObjects === "function";

/**
 * The store holding a blob row's bytes, chosen by the row's `backend` ("local" | "s3"). A process may
 * read from several (content moves from local disk to S3 under the transfer policy); throws
 * BlobBackendUnavailableError for a backend this process was not configured with.
 */
export type StoreFor = (backend: string) => BlobStore;
