// One file of the upload queue: its state, what is sent and in flight, and the progress and speed shown.
import type { ConflictPolicy, File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { UploadBatch } from "./upload-conflicts.ts";

export type UploadState =
  | "queued"
  | "hashing"
  | "checking"
  | "uploading"
  | "paused"
  | "completing"
  | "done"
  | "failed"
  | "canceled"
  /** The name was taken and the user chose to skip this file. */
  | "skipped";

export interface UploadItem {
  id: number;
  file: File;
  name: string;
  /** Folders to create under parentId, from a dropped or picked folder. */
  folders: string[];
  parentId: string;
  /** The files added together: their name conflicts are asked about together. */
  batch: UploadBatch;
  /** Under which policy it goes, once known (FAIL: the name was free). */
  policy?: ConflictPolicy;
  /** Sent again under the user's answer after the name was taken at the end: once only. */
  sentAgain?: boolean;
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

/** The file's path within what was dropped or picked ("photos/a.jpg"). */
export const pathOf = (it: UploadItem): string => [...it.folders, it.name].join("/");

/** Over: nothing more happens to it. */
export const isOver = (it: UploadItem): boolean =>
  it.state === "done" || it.state === "canceled" || it.state === "skipped";

/** The state, unnarrowed: pause and cancel change it from event handlers while `run` awaits. */
export const stateOf = (it: UploadItem): UploadState => it.state;

export function progressOf(it: Pick<UploadItem, "sent" | "inflight" | "file">): number {
  let n = it.sent;
  for (const p of it.inflight.values()) n += p.loaded;
  return Math.min(it.file.size, n);
}

export function sample(it: Pick<UploadItem, "sent" | "inflight" | "file" | "samples">): void {
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
