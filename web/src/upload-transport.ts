// How the upload queue talks to the outside: the SHA-256 of a file in a Web Worker, and one part PUT over
// XHR (for upload progress) to a presigned S3 URL or the data plane, retried with backoff.
import { auth } from "./api.ts";
import type { HashReply, HashRequest } from "./hash-worker.ts";
import { sample, type UploadItem } from "./upload-item.ts";

/**
 * The headers of a part sent to the data plane; `renew` after a 401 (the drive's default renews the
 * access token; a drop link's page sends its share token and session key).
 */
export type PartCredentials = (renew: boolean) => Promise<Record<string, string>>;

const bearer: PartCredentials = async (renew) => ({
  Authorization: `Bearer ${await auth.accessToken(renew)}`,
});

const MAX_ATTEMPTS = 6;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const retryable = (err: unknown) =>
  err instanceof HttpError &&
  (err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500);

let hasher: Worker | undefined;
let hashIds = 0;
export function hashFile(file: Blob, onProgress: (done: number) => void): Promise<string> {
  hasher ??= new Worker("/assets/hash-worker.js", { type: "module" });
  const worker = hasher;
  const id = ++hashIds;
  return new Promise((resolve, reject) => {
    const listen = (e: MessageEvent<HashReply>) => {
      const m = e.data;
      if (m.id !== id) return;
      if (m.kind === "progress") return onProgress(m.done);
      worker.removeEventListener("message", listen);
      if (m.kind === "done") resolve(m.sha256);
      else reject(new Error(m.message));
    };
    worker.addEventListener("message", listen);
    worker.postMessage({ id, file } satisfies HashRequest);
  });
}

function putPart(url: string, body: Blob, headers: Record<string, string>, onProgress: (n: number) => void) {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let message = `the server answered ${xhr.status}`;
      try {
        message = (JSON.parse(xhr.responseText) as { message?: string }).message || message;
      } catch {
        // Not JSON (S3 answers XML): the status says enough.
      }
      reject(new HttpError(xhr.status, message));
    };
    xhr.onerror = () => reject(new HttpError(0, "the connection failed"));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    xhr.send(body);
  });
  return { xhr, done };
}

/** Set once a presigned S3 URL could not be reached from this page (see sendPart). */
let directBlocked = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends one part, retrying transient failures with backoff; returns early when paused or canceled. A
 * presigned S3 URL is preferred; when the browser cannot reach it (a bucket without CORS rules for this
 * origin looks like a network error), this page sends every part through the data plane instead.
 */
export async function sendPart(
  item: Pick<UploadItem, "file" | "state" | "inflight" | "note" | "samples" | "sent">,
  n: number,
  urls: { direct?: string; plane: string },
  partSize: number,
  size: number,
  changed: () => void,
  credentials: PartCredentials = bearer,
): Promise<void> {
  let renew = false;
  for (let attempt = 1; ; attempt++) {
    if (item.state !== "uploading") return;
    const direct = directBlocked ? undefined : urls.direct;
    const headers = direct ? {} : await credentials(renew);
    renew = false;
    const start = (n - 1) * partSize;
    const put = putPart(direct ?? urls.plane, item.file.slice(start, start + size), headers, (loaded) => {
      const p = item.inflight.get(n);
      if (p) p.loaded = loaded;
      sample(item);
      changed();
    });
    item.inflight.set(n, { xhr: put.xhr, loaded: 0 });
    try {
      await put.done;
      if (item.note?.startsWith("Retrying")) item.note = undefined;
      return;
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      if (direct && err instanceof HttpError && err.status === 0) {
        directBlocked = true;
        attempt--; // not the part's fault
        continue;
      }
      const unauthorized = err instanceof HttpError && err.status === 401 && attempt < 3;
      renew = unauthorized;
      if ((!retryable(err) && !unauthorized) || attempt >= MAX_ATTEMPTS) {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(
          err instanceof HttpError && (err.status === 404 || err.status === 412)
            ? `${why}. Start the upload again.`
            : `Part ${n} failed: ${why}`,
        );
      }
      item.note = `Retrying part ${n} (attempt ${attempt + 1} of ${MAX_ATTEMPTS})…`;
      changed();
      await sleep(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2));
    } finally {
      item.inflight.delete(n);
    }
  }
}
