// Errors of the blob store. Callers map them to Connect codes / HTTP statuses; their messages name no
// path, bucket or key (they may reach a user).

export class BlobStoreError extends Error {
  override name = "BlobStoreError";
}

/** The body is larger than allowed (ResourceExhausted / HTTP 413). */
export class BlobTooLargeError extends BlobStoreError {
  override name = "BlobTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`the content is larger than the limit of ${maxBytes} bytes`);
  }
}

/** The body's size is not the size announced (InvalidArgument / HTTP 400). */
export class BlobSizeMismatchError extends BlobStoreError {
  override name = "BlobSizeMismatchError";
  constructor(
    readonly expected: number,
    /** The size received; for a body longer than announced, the size when reading stopped. */
    readonly actual: number,
  ) {
    super(
      actual > expected
        ? `the content is longer than the announced ${expected} bytes`
        : `the content has ${actual} bytes, not the announced ${expected}`,
    );
  }
}

/** The body's SHA-256 is not the hash announced (InvalidArgument / HTTP 400). */
export class BlobHashMismatchError extends BlobStoreError {
  override name = "BlobHashMismatchError";
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly algorithm: "SHA-256" | "SHA-1" = "SHA-256",
  ) {
    super(`the content's ${algorithm} is ${actual}, not the announced ${expected}`);
  }
}

/** A bad argument: a range, an option, a session id, a part number (InvalidArgument / HTTP 400). */
export class InvalidArgumentError extends BlobStoreError {
  override name = "InvalidArgumentError";
}

/** A location this store did not produce (never a path to follow). */
export class InvalidLocationError extends InvalidArgumentError {
  override name = "InvalidLocationError";
  constructor(location: string) {
    super(`not a blob location: ${JSON.stringify(location.slice(0, 200))}`);
  }
}

/** A well-formed location whose blob does not exist (NotFound / HTTP 404). */
export class BlobNotFoundError extends BlobStoreError {
  override name = "BlobNotFoundError";
  constructor() {
    super("the blob does not exist");
  }
}

/** A range whose start lies past the blob's last byte (HTTP 416). */
export class RangeNotSatisfiableError extends BlobStoreError {
  override name = "RangeNotSatisfiableError";
  constructor(readonly size: number) {
    super(`the range starts past the end of the ${size}-byte blob`);
  }
}

/** A bad session id, part number or part count. */
export class InvalidPartError extends InvalidArgumentError {
  override name = "InvalidPartError";
}

/** assembleParts was asked for parts that were never stored (FailedPrecondition). */
export class MissingPartError extends BlobStoreError {
  override name = "MissingPartError";
  constructor(readonly missing: number[]) {
    super(
      `missing part${missing.length === 1 ? "" : "s"} ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}`,
    );
  }
}

/** A blob row names a backend this process has no store for (a configuration error: Unavailable). */
export class BlobBackendUnavailableError extends BlobStoreError {
  override name = "BlobBackendUnavailableError";
  constructor(readonly backend: string) {
    super(`this process has no "${backend}" blob store configured`);
  }
}

/**
 * The parts of a session are busy: the same part is being written by another request, parts are being
 * written while completion was asked, or completion is under way while a part comes (Aborted / HTTP 409:
 * retry once the other request is answered).
 */
export class PartsBusyError extends BlobStoreError {
  override name = "PartsBusyError";
}

/** A part sent to a session whose content already became a blob (FailedPrecondition). */
export class SessionSealedError extends BlobStoreError {
  override name = "SessionSealedError";
  constructor() {
    super("the upload session is already complete");
  }
}
