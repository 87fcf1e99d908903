// The upload queue: for each file, SHA-256 in a Web Worker, then instant upload (offer + proof of
// possession), else a resumable multipart session whose parts go in parallel over plain HTTP (XHR, for
// upload progress) to the data plane or to presigned S3 URLs. Failed parts are retried with backoff;
// pause aborts the parts in flight and resume sends them again. An unfinished session is remembered in
// localStorage: after a reload, adding the same file again finds it by content hash (resume=true) and
// only the missing parts are sent.

import { Code, ConnectError } from "@connectrpc/connect";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { auth, codeOf, explain, files, uploads } from "./api.ts";
import type { HashReply, HashRequest } from "./hash-worker.ts";

export type UploadState =
  | "queued"
  | "hashing"
  | "checking"
  | "uploading"
  | "paused"
  | "completing"
  | "done"
  | "failed"
  | "canceled";

export interface UploadItem {
  id: number;
  file: File;
  name: string;
  /** Folders to create under parentId, from a dropped or picked folder. */
  folders: string[];
  parentId: string;
  state: UploadState;
  hashed: number;
  /** Bytes of parts the server has confirmed. */
  sent: number;
  /** Bytes of parts in flight, by part number. */
  inflight: Map<number, { xhr: XMLHttpRequest; loaded: number }>;
  sha256?: string;
  sessionId?: string;
  /** Parts on the server, of how many (once a session exists). */
  parts?: { done: number; count: number };
  note?: string;
  error?: string;
  result?: StoredFile;
  /** (time ms, bytes) samples of the last seconds, for the speed. */
  samples: [number, number][];
}

/** What is remembered of an unfinished upload across reloads. */
export interface Unfinished {
  sessionId: string;
  userId: string;
  name: string;
  size: number;
  sha256: string;
  percent: number;
}

export const FILES_IN_PARALLEL = 2;
/**
 * Parts in flight, over all files: browsers open about six HTTP/1.1 connections per host, and the file
 * list's RPCs and the WatchFiles stream need some of them too.
 */
export const PARTS_IN_PARALLEL = 4;
const MAX_ATTEMPTS = 6;
const STORE = "filestore.uploads";

class HttpError extends Error {
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
function hashFile(file: Blob, onProgress: (done: number) => void): Promise<string> {
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

function putPart(url: string, body: Blob, token: string | undefined, onProgress: (n: number) => void) {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open("PUT", url);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
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

export class UploadQueue {
  readonly items: UploadItem[] = [];
  private nextId = 1;
  private listeners: (() => void)[] = [];
  private folderIds = new Map<string, Promise<string>>();
  private wakers = new Map<number, () => void>();

  constructor(private readonly onUploaded: (f: StoredFile) => void) {}

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  add(entries: { file: File; path?: string }[], parentId: string): void {
    for (const { file, path } of entries) {
      const parts = (path || file.name).split("/").filter((p) => p !== "");
      this.items.push({
        id: this.nextId++,
        file,
        name: parts.pop() ?? file.name,
        folders: parts,
        parentId,
        state: "queued",
        hashed: 0,
        sent: 0,
        inflight: new Map(),
        samples: [],
      });
    }
    this.changed();
    this.pump();
  }

  pause(id: number): void {
    const item = this.find(id);
    if (!item || !["queued", "hashing", "checking", "uploading"].includes(item.state)) return;
    item.state = "paused";
    for (const p of item.inflight.values()) p.xhr.abort();
    this.changed();
  }

  resume(id: number): void {
    const item = this.find(id);
    if (!item || (item.state !== "paused" && item.state !== "failed")) return;
    // A paused run goes on where it waits (see proceed); a failed one starts again from the queue.
    item.state = this.running.has(id) ? "uploading" : "queued";
    item.error = undefined;
    item.samples = [];
    this.changed();
    this.wakers.get(id)?.();
    this.pump();
  }

  async cancel(id: number): Promise<void> {
    const item = this.find(id);
    if (!item || item.state === "done" || item.state === "canceled") return;
    item.state = "canceled";
    for (const p of item.inflight.values()) p.xhr.abort();
    this.wakers.get(id)?.();
    this.changed();
    if (item.sessionId) {
      forget(item.sessionId);
      await uploads.abortUploadSession({ sessionId: item.sessionId }).catch(() => undefined);
    }
  }

  clearFinished(): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const s = this.items[i]?.state;
      if (s === "done" || s === "canceled") this.items.splice(i, 1);
    }
    this.changed();
  }

  /** Bytes, bytes done and speed of everything in the queue that is not canceled. */
  totals(): { size: number; done: number; speed: number } {
    let size = 0;
    let done = 0;
    let speed = 0;
    for (const it of this.items) {
      if (it.state === "canceled") continue;
      size += it.file.size;
      done += progressOf(it);
      if (it.state === "uploading") speed += speedOf(it);
    }
    return { size, done, speed };
  }

  private find(id: number) {
    return this.items.find((i) => i.id === id);
  }

  private running = new Set<number>();
  private freeSlots = PARTS_IN_PARALLEL;
  private waiting: (() => void)[] = [];

  private async slot(): Promise<void> {
    if (this.freeSlots > 0) {
      this.freeSlots--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Hands the slot to the next part waiting, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.freeSlots++;
  }

  private pump(): void {
    for (const item of this.items) {
      if (this.running.size >= FILES_IN_PARALLEL) return;
      if (item.state === "queued" && !this.running.has(item.id)) this.start(item);
    }
  }

  private start(item: UploadItem): void {
    this.running.add(item.id);
    this.run(item)
      .catch((err) => {
        if (item.state === "canceled") return;
        item.state = "failed";
        item.error = explain(err);
      })
      .finally(() => {
        this.running.delete(item.id);
        this.changed();
        this.pump();
      });
  }

  /** Waits while the item is paused; false when it was canceled. */
  private async proceed(item: UploadItem): Promise<boolean> {
    while (item.state === "paused") await new Promise<void>((r) => this.wakers.set(item.id, r));
    return item.state !== "canceled";
  }

  private async run(item: UploadItem): Promise<void> {
    item.state = "hashing";
    this.changed();
    const parentId = await this.folder(item.parentId, item.folders);
    item.sha256 ??= await hashFile(item.file, (n) => {
      item.hashed = n;
      this.changed();
    });
    item.hashed = item.file.size;
    if (!(await this.proceed(item))) return;
    item.state = "checking";
    this.changed();
    const instant = await this.tryInstant(item, parentId);
    if (instant) return this.finish(item, instant, "Instant upload: the server already had this content");
    if (!(await this.proceed(item))) return;
    item.state = "uploading";
    this.changed();
    const s = await uploads.createUploadSession({
      name: item.name,
      parentId,
      size: BigInt(item.file.size),
      sha256: item.sha256,
      resume: true,
    });
    item.sessionId = s.sessionId;
    const partSize = Number(s.partSize);
    const sizeOf = (n: number) =>
      n < s.partCount ? partSize : item.file.size - partSize * (s.partCount - 1);
    const done = new Set<number>();
    const remember = () =>
      keep({
        sessionId: s.sessionId,
        userId: auth.current()?.userId ?? "",
        name: item.name,
        size: item.file.size,
        sha256: item.sha256 ?? "",
        percent: Math.floor((item.sent / Math.max(1, item.file.size)) * 100),
      });
    const fetchDone = async () => {
      const { parts } = await uploads.listParts({ sessionId: s.sessionId });
      for (const p of parts) if (Number(p.size) === sizeOf(p.partNumber)) done.add(p.partNumber);
      item.sent = [...done].reduce((a, n) => a + sizeOf(n), 0);
      item.parts = { done: done.size, count: s.partCount };
    };
    item.parts = { done: 0, count: s.partCount };
    if (s.resumed) {
      await fetchDone();
      item.note = `Resumed: ${done.size} of ${s.partCount} parts were already on the server`;
    }
    remember();
    this.changed();
    const urlsOf = (n: number) => ({
      direct: s.presignedParts.find((p) => p.partNumber === n)?.url,
      plane: new URL(`${s.partUrl}${n}`, location.origin).href,
    });

    for (let completionRetried = false; ; ) {
      const todo = Array.from({ length: s.partCount }, (_, i) => i + 1).filter((n) => !done.has(n));
      const worker = async () => {
        for (let n = todo.shift(); n !== undefined; n = todo.shift()) {
          await this.slot();
          try {
            await this.sendPart(item, n, urlsOf(n), partSize, sizeOf(n));
          } finally {
            this.release();
          }
          if (item.state !== "uploading") {
            todo.unshift(n);
            return;
          }
          done.add(n);
          item.sent += sizeOf(n);
          item.parts = { done: done.size, count: s.partCount };
          remember();
        }
      };
      await Promise.all(Array.from({ length: PARTS_IN_PARALLEL }, worker));
      // Pause and cancel change the state while the parts are in flight.
      const now = stateOf(item);
      if (now === "paused") {
        if (!(await this.proceed(item))) return;
        continue;
      }
      if (now === "canceled") return;
      item.state = "completing";
      this.changed();
      try {
        const { file } = await uploads.completeUploadSession({ sessionId: s.sessionId });
        if (!file) throw new ConnectError("the server returned no file", Code.Internal);
        forget(s.sessionId);
        return this.finish(item, file, item.note);
      } catch (err) {
        // Parts the server lost or rejected: fetch its view and send what is missing, once.
        if (completionRetried || codeOf(err) !== Code.FailedPrecondition) throw err;
        completionRetried = true;
        done.clear();
        await fetchDone();
        item.state = "uploading";
      }
    }
  }

  private finish(item: UploadItem, file: StoredFile, note?: string): void {
    item.state = "done";
    item.result = file;
    item.sent = item.file.size;
    item.note = note;
    this.changed();
    this.onUploaded(file);
  }

  /** Instant upload: offer the hash, prove possession of the range asked for. */
  private async tryInstant(item: UploadItem, parentId: string): Promise<StoredFile | undefined> {
    const offer = await uploads.offerContent({
      sha256: item.sha256 ?? "",
      size: BigInt(item.file.size),
      name: item.name,
      parentId,
    });
    if (!offer.challengeId) return undefined; // a server before every offer got a challenge
    const start = Number(offer.rangeStart);
    const range = await item.file.slice(start, start + Number(offer.rangeLength)).arrayBuffer();
    try {
      const { file } = await uploads.proveContent({
        challengeId: offer.challengeId,
        rangeSha256: bytesToHex(sha256(new Uint8Array(range))),
      });
      return file;
    } catch (err) {
      // The server does not hold this content (it answers that exactly like a wrong proof, so that nobody
      // learns who holds what), or it went away, or the file changed: upload it, no error to show.
      if (codeOf(err) === Code.FailedPrecondition) return undefined;
      throw err;
    }
  }

  /**
   * Sends one part, retrying transient failures with backoff; returns early when paused or canceled. A
   * presigned S3 URL is preferred; when the browser cannot reach it (a bucket without CORS rules for this
   * origin looks like a network error), this page sends every part through the data plane instead.
   */
  private async sendPart(
    item: UploadItem,
    n: number,
    urls: { direct?: string; plane: string },
    partSize: number,
    size: number,
  ): Promise<void> {
    let renew = false;
    for (let attempt = 1; ; attempt++) {
      if (item.state !== "uploading") return;
      const direct = directBlocked ? undefined : urls.direct;
      const token = direct ? undefined : await auth.accessToken(renew);
      renew = false;
      const start = (n - 1) * partSize;
      const put = putPart(direct ?? urls.plane, item.file.slice(start, start + size), token, (loaded) => {
        const p = item.inflight.get(n);
        if (p) p.loaded = loaded;
        sample(item);
        this.changed();
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
        this.changed();
        await sleep(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2));
      } finally {
        item.inflight.delete(n);
      }
    }
  }

  /** The id of folder `path` under `parentId`, creating the folders that are missing. */
  private async folder(parentId: string, path: string[]): Promise<string> {
    let id = parentId;
    for (const name of path) {
      const key = `${id}/${name}`;
      let p = this.folderIds.get(key);
      if (!p) {
        p = ensureFolder(id, name);
        this.folderIds.set(key, p);
        p.catch(() => this.folderIds.delete(key));
      }
      id = await p;
    }
    return id;
  }
}

async function ensureFolder(parentId: string, name: string): Promise<string> {
  try {
    const { folder } = await files.createFolder({ parentId, name });
    if (folder) return folder.id;
  } catch (err) {
    if (codeOf(err) !== Code.AlreadyExists) throw err;
  }
  for (let pageToken = ""; ; ) {
    const page = await files.listFiles({ parentId, pageSize: 500, pageToken });
    const hit = page.files.find((f) => f.name === name);
    if (hit) return hit.id;
    if (!page.nextPageToken) throw new Error(`could not create the folder ${name}`);
    pageToken = page.nextPageToken;
  }
}

/** The state, unnarrowed: pause and cancel change it from event handlers while `run` awaits. */
const stateOf = (it: UploadItem): UploadState => it.state;

export function progressOf(it: UploadItem): number {
  let n = it.sent;
  for (const p of it.inflight.values()) n += p.loaded;
  return Math.min(it.file.size, n);
}

function sample(it: UploadItem): void {
  const now = Date.now();
  it.samples.push([now, progressOf(it)]);
  while (it.samples.length > 2 && (it.samples[0]?.[0] ?? now) < now - 5000) it.samples.shift();
}

export function speedOf(it: UploadItem): number {
  const first = it.samples[0];
  const last = it.samples[it.samples.length - 1];
  if (!first || !last || last[0] - first[0] < 300) return 0;
  return Math.max(0, ((last[1] - first[1]) * 1000) / (last[0] - first[0]));
}

// --- unfinished uploads, remembered across reloads ----------------------------------------------

export function unfinished(userId: string): Unfinished[] {
  try {
    const all = JSON.parse(localStorage.getItem(STORE) ?? "[]") as Unfinished[];
    return all.filter((u) => u.userId === userId);
  } catch {
    return [];
  }
}

function keep(u: Unfinished): void {
  const all = (JSON.parse(localStorage.getItem(STORE) ?? "[]") as Unfinished[]).filter(
    (x) => x.sessionId !== u.sessionId,
  );
  localStorage.setItem(STORE, JSON.stringify([...all, u]));
}

export function forget(sessionId: string): void {
  try {
    const all = JSON.parse(localStorage.getItem(STORE) ?? "[]") as Unfinished[];
    localStorage.setItem(STORE, JSON.stringify(all.filter((x) => x.sessionId !== sessionId)));
  } catch {
    localStorage.removeItem(STORE);
  }
}

/** Drops an unfinished upload for good (its parts are deleted on the server). */
export async function discard(sessionId: string): Promise<void> {
  forget(sessionId);
  await uploads.abortUploadSession({ sessionId }).catch(() => undefined);
}

export { HttpError };
