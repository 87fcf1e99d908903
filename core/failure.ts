// What an unexpected error means to a client, decided in one place: the server's storage is full
// (ResourceExhausted; HTTP 507), a dependency cannot be reached or is busy right now (Unavailable; HTTP 503
// with Retry-After), or anything else (Internal). Errors are recognised by their codes (Node and Bun system
// errors, bun:sqlite, mysql2, the minio client), never by message text, and the answer names no internal
// address. Web-standard: the gateway uses it too.
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { Reason, reasonOf, withReason } from "./reasons.ts";

export type Failure =
  | { kind: "storage-full" }
  /** `message` says what is unavailable, without any internal detail. */
  | { kind: "unavailable"; message: string }
  | { kind: "other" };

export const STORAGE_FULL_MESSAGE = "the server's storage is full";
/** Seconds an Unavailable answer asks the client to wait (Retry-After) before it tries again. */
export const RETRY_AFTER_SECONDS = 5;
export const REQUEST_ID_HEADER = "x-request-id";

export const unavailableMessage = (subject: string) => `${subject} is unavailable, retry in a moment`;
export const withRequestId = (message: string, id: string) => `${message} (request id ${id})`;

/** A dependency that could not be reached at all; `subject` names it for clients ("the meta service"). */
export class UnreachableError extends Error {
  override name = "UnreachableError";
  constructor(
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(unavailableMessage(subject), options);
  }
}

// Node/Bun file systems; bun:sqlite; MariaDB/MySQL (1021 ER_DISK_FULL, 1114 ER_RECORD_FILE_FULL).
const STORAGE_FULL_CODES = new Set([
  "ENOSPC",
  "EDQUOT",
  "SQLITE_FULL",
  "ER_DISK_FULL",
  "ER_RECORD_FILE_FULL",
]);
// A connection that could not be made or broke (Node/Bun system errors; Bun's fetch names some its own way).
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
]);
// MariaDB/MySQL refusing work for now: 1040 too many connections, 1053 shutting down, 1203 too many
// connections of the user, 1290 and 1792 and 1836 read-only (a replica being promoted), 1317 query
// interrupted, 1927 connection killed, 4031 idle connection closed by the server.
const DB_DOWN_ERRNOS = new Set([1040, 1053, 1203, 1290, 1317, 1792, 1836, 1927, 4031]);
// Lock conflicts that outlived the retries of the transaction that met them: 1205 lock wait timeout,
// 1213 deadlock, 1969 statement time limit; SQLite busy past its busy_timeout.
const DB_BUSY_ERRNOS = new Set([1205, 1213, 1969]);
const SQLITE_BUSY_CODES = new Set([
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_TIMEOUT",
]);
// The S3 server's own failures (minio's S3Error codes): a 5xx, or a request it did not finish in time.
const S3_DOWN_CODES = new Set(["InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"]);
// mysql2's fatal errors that a retry will not mend: wrong credentials, database, TLS settings.
const DB_CONFIG_ERROR = /^(ER_ACCESS_DENIED|ER_DBACCESS_DENIED|ER_BAD_DB|HANDSHAKE_)/;

const DATABASE = "the database";
const FILE_STORAGE = "the file storage";

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  fatal?: unknown;
  cause?: unknown;
}

/** What one error (not its causes) means; undefined when it says nothing. */
function classifyOne(err: ErrorFields): Failure | undefined {
  if (err instanceof UnreachableError) return { kind: "unavailable", message: err.message };
  // Content on a store this process was not configured with (a deployment error the operator fixes): the
  // blob store's BlobBackendUnavailableError, known by its name since core/ imports no worker code.
  if (err.name === "BlobBackendUnavailableError")
    return { kind: "unavailable", message: unavailableMessage(FILE_STORAGE) };
  const code = typeof err.code === "string" ? err.code : "";
  if (STORAGE_FULL_CODES.has(code)) return { kind: "storage-full" };
  // mysql2: server errors carry an SQL state, connection-level ones are marked fatal.
  const mysql = typeof err.sqlState === "string" || typeof err.fatal === "boolean";
  const errno = typeof err.errno === "number" ? err.errno : 0;
  if (mysql && (errno === 1021 || errno === 1114)) return { kind: "storage-full" };
  if ((mysql && DB_BUSY_ERRNOS.has(errno)) || SQLITE_BUSY_CODES.has(code))
    return { kind: "unavailable", message: `${DATABASE} is busy, retry in a moment` };
  if (mysql && (DB_DOWN_ERRNOS.has(errno) || (err.fatal === true && !DB_CONFIG_ERROR.test(code))))
    return { kind: "unavailable", message: unavailableMessage(DATABASE) };
  if (err.name === "S3Error" && S3_DOWN_CODES.has(code))
    return { kind: "unavailable", message: unavailableMessage(FILE_STORAGE) };
  if (NETWORK_CODES.has(code))
    return { kind: "unavailable", message: unavailableMessage("a service the server depends on") };
  return undefined;
}

/**
 * What `err` means to a client, from the error and its causes (a ConnectError that a transport made of a
 * refused connection, say). A ConnectError without a cause was made on purpose, here or by the service that
 * answered it: "other", for the caller to pass on by its code.
 */
export function classifyFailure(err: unknown): Failure {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e !== null && typeof e === "object"; depth++) {
    if (!(e instanceof ConnectError)) {
      const f = classifyOne(e as ErrorFields);
      if (f) return f;
    }
    e = (e as ErrorFields).cause;
  }
  return { kind: "other" };
}

const unexpectedCodes = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

/**
 * The error a client gets for `err`, answered under request id `id`: storage full → ResourceExhausted
 * (reason STORAGE_FULL), a dependency down → Unavailable, both saying so with the request id; a deliberate
 * ConnectError as it is; anything else → "internal error (request id …)". Details stay out of the
 * message; the caller logs `err` when the answer is not `err` itself.
 */
export function clientError(err: unknown, id: string): ConnectError {
  const metadata: Record<string, string> = { [REQUEST_ID_HEADER]: id };
  const f = classifyFailure(err);
  if (f.kind === "storage-full") {
    const e = new ConnectError(withRequestId(STORAGE_FULL_MESSAGE, id), Code.ResourceExhausted, metadata);
    return withReason(e, Reason.STORAGE_FULL);
  }
  if (f.kind === "unavailable")
    return new ConnectError(withRequestId(f.message, id), Code.Unavailable, metadata);
  if (err instanceof ConnectError && !unexpectedCodes.has(err.code)) {
    // A service's error relayed as it is carries the headers of that service's answer (connection,
    // content-type, …): they describe another exchange, and HTTP/2 refuses connection-specific ones in
    // trailers (a gRPC answer would end in a protocol error instead of this error).
    for (const name of [...err.metadata.keys()]) err.metadata.delete(name);
    err.metadata.set(REQUEST_ID_HEADER, id);
    return err;
  }
  const code = err instanceof ConnectError ? err.code : Code.Internal;
  return new ConnectError(withRequestId("internal error", id), code, metadata);
}

/**
 * True for an answer about the server's storage being full (here or in a service that was called): a
 * ResourceExhausted of its own kind, not the caller's limits, which the data planes answer 507.
 */
export const isStorageFull = (err: ConnectError): boolean =>
  err.code === Code.ResourceExhausted && reasonOf(err) === Reason.STORAGE_FULL;

/**
 * True when the answer is "no room": the server's storage is full, or the caller's quota is (both 507
 * Insufficient Storage on the data planes and tus, which tus clients do not retry).
 */
export const isInsufficientStorage = (err: ConnectError): boolean =>
  isStorageFull(err) || (err.code === Code.ResourceExhausted && reasonOf(err) === Reason.QUOTA_EXCEEDED);

/** The plain-HTTP status of a client error: 507 for full storage or quota, else Connect's mapping. */
export const httpStatusOf = (err: ConnectError): number =>
  isInsufficientStorage(err) ? 507 : codeToHttpStatus(err.code);

/** Headers of a plain-HTTP error answer: the request id, and Retry-After when trying again will help. */
export function failureHeaders(err: ConnectError, id: string): Record<string, string> {
  const h: Record<string, string> = { [REQUEST_ID_HEADER]: id };
  if (err.code === Code.Unavailable) h["retry-after"] = String(RETRY_AFTER_SECONDS);
  return h;
}
