// The upload queue: for each file, SHA-256 in a Web Worker, then instant upload (offer + proof of
// possession), else a resumable multipart session whose parts go in parallel over plain HTTP (XHR, for
// upload progress) to the data plane or to presigned S3 URLs. Failed parts are retried with backoff;
// pause aborts the parts in flight and resume sends them again. An unfinished session is remembered in
// localStorage: after a reload, adding the same file again finds it by content hash (resume=true) and
// only the missing parts are sent.

import { Code, ConnectError } from "@connectrpc/connect";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Reason, reasonOf } from "../../core/reasons.ts";
import {
  ConflictPolicy,
  FileKind,
  type File as StoredFile,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { auth, codeOf, explain, files, uploads } from "./api.ts";
import { forget, keep } from "./unfinished-uploads.ts";
import { UploadBatch } from "./upload-conflicts.ts";
import { isOver, pathOf, progressOf, speedOf, stateOf, type UploadItem } from "./upload-item.ts";
import { PARTS_IN_PARALLEL, PartSlots, partsOnServer, sendParts } from "./upload-parts.ts";
import { hashFile } from "./upload-transport.ts";

export const FILES_IN_PARALLEL = 2;

export class UploadQueue {
  readonly items: UploadItem[] = [];
  private nextId = 1;
  private listeners: (() => void)[] = [];
  private folderIds = new Map<string, Promise<string>>();
  private wakers = new Map<number, () => void>();

  constructor(private readonly onUploaded: (f: StoredFile) => void) {}

  /** Calls `fn` on every change; returns what stops it. */
  onChange(fn: () => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  add(entries: { file: File; path?: string }[], parentId: string): void {
    const batch = new UploadBatch(entries.length);
    for (const { file, path } of entries) {
      const parts = (path || file.name).split("/").filter((p) => p !== "");
      this.items.push({
        id: this.nextId++,
        file,
        name: parts.pop() ?? file.name,
        folders: parts,
        parentId,
        batch,
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
    if (!item || isOver(item)) return;
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
      const it = this.items[i];
      if (it && isOver(it)) this.items.splice(i, 1);
    }
    this.changed();
  }

  /** Bytes, bytes done and speed of everything in the queue that is not canceled or skipped. */
  totals(): { size: number; done: number; speed: number } {
    let size = 0;
    let done = 0;
    let speed = 0;
    for (const it of this.items) {
      if (it.state === "canceled" || it.state === "skipped") continue;
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
  /** Parts in flight over all files. */
  private slots = new PartSlots(PARTS_IN_PARALLEL);

  private pump(): void {
    for (const item of this.items) {
      if (this.running.size >= FILES_IN_PARALLEL) return;
      if (item.state === "queued" && !this.running.has(item.id)) this.start(item);
    }
  }

  private start(item: UploadItem): void {
    this.running.add(item.id);
    this.run(item)
      .catch(async (err) => {
        if (item.state === "canceled") return;
        if (reasonOf(err) === Reason.NAME_TAKEN && (await this.nameTaken(item).catch(() => false))) return;
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

  /**
   * The name was taken when the file was to appear (after the listing that found it free, or in a session
   * resumed from before the answer, which keeps its own policy): ask if not asked yet, then send the file
   * again under the answer — once; true when the item is queued again or skipped.
   */
  private async nameTaken(item: UploadItem): Promise<boolean> {
    if (item.sentAgain) return false;
    if (item.sessionId) {
      forget(item.sessionId);
      await uploads.abortUploadSession({ sessionId: item.sessionId }).catch(() => undefined);
      item.sessionId = undefined;
    }
    const policy =
      item.policy === ConflictPolicy.RENAME || item.policy === ConflictPolicy.REPLACE
        ? item.policy
        : await item.batch.choose(pathOf(item), true);
    if (policy === "skip") return this.skip(item);
    item.policy = policy;
    item.sentAgain = true;
    item.state = "queued";
    item.sent = 0;
    item.parts = undefined;
    item.note = "The name was taken meanwhile: sending it again";
    return true;
  }

  private skip(item: UploadItem): true {
    item.state = "skipped";
    item.note = "Skipped: an entry of that name is already there";
    this.changed();
    return true;
  }

  private async run(item: UploadItem): Promise<void> {
    item.state = "hashing";
    this.changed();
    const parentId = await this.folder(item.parentId, item.folders);
    if (item.policy === undefined) {
      const policy = await item.batch.policyFor(parentId, item.name, pathOf(item));
      if (policy === "skip") {
        this.skip(item);
        return;
      }
      item.policy = policy;
    }
    if (!(await this.proceed(item))) return;
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
      onConflict: item.policy,
    });
    item.sessionId = s.sessionId;
    const plan = {
      partCount: s.partCount,
      partSize: Number(s.partSize),
      urlsOf: (n: number) => ({
        direct: s.presignedParts.find((p) => p.partNumber === n)?.url,
        plane: new URL(`${s.partUrl}${n}`, location.origin).href,
      }),
    };
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
      partsOnServer(item, plan, done, parts);
      item.parts = { done: done.size, count: s.partCount };
    };
    item.parts = { done: 0, count: s.partCount };
    if (s.resumed) {
      await fetchDone();
      item.note = `Resumed: ${done.size} of ${s.partCount} parts were already on the server`;
    }
    remember();
    this.changed();
    for (let completionRetried = false; ; ) {
      await sendParts(item, plan, done, {
        slots: this.slots,
        lanes: PARTS_IN_PARALLEL,
        changed: () => this.changed(),
        sent: () => {
          item.parts = { done: done.size, count: s.partCount };
          remember();
        },
      });
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
      onConflict: item.policy,
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
  // Taken: by the folder (an upload into an existing folder adds to it), or by a file in the way.
  for (let pageToken = ""; ; ) {
    const page = await files.listFiles({ parentId, pageSize: 500, pageToken });
    const hit = page.files.find((f) => f.name === name);
    if (hit?.kind === FileKind.FOLDER) return hit.id;
    if (hit) throw new Error(`a file named ${name} is where the folder ${name} should go`);
    if (!page.nextPageToken) throw new Error(`could not create the folder ${name}`);
    pageToken = page.nextPageToken;
  }
}
