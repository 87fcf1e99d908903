// `filestore download`: parallel ranged GETs of a signed URL into `<dest>.filestore-part`, with the
// chunks already written recorded in a sidecar `<dest>.filestore-part.json` (after the data reached the
// disk), so an interrupted download continues where it stopped. The file gets its final name only once
// its SHA-256 matches the server's.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { Client } from "@connectrpc/connect";
import type { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { forEach, HttpError, httpError, type Limiter, NetworkError, request, withRetry } from "./pool.ts";
import type { Meter } from "./progress.ts";
import type { Session } from "./session.ts";
import { sha256File } from "./upload.ts";

export const CHUNK_SIZE = 8 * 1024 * 1024;

export interface DownloadState {
  version: 1;
  fileId: string;
  size: number;
  sha256: string;
  chunkSize: number;
  /** Indexes of the chunks on disk. */
  done: number[];
}

export const partialPath = (dest: string) => `${dest}.filestore-part`;
export const statePath = (dest: string) => `${partialPath(dest)}.json`;

export function chunkRange(i: number, chunkSize: number, size: number): { start: number; end: number } {
  const start = i * chunkSize;
  return { start, end: Math.min(size, start + chunkSize) };
}

/** The saved state, if there is one for this very content and its partial file still exists. */
export function loadState(dest: string, file: { id: string; size: bigint; sha256: string }) {
  if (!existsSync(partialPath(dest))) return undefined;
  try {
    const s = JSON.parse(readFileSync(statePath(dest), "utf8")) as DownloadState;
    const same =
      s.version === 1 &&
      s.fileId === file.id &&
      s.size === Number(file.size) &&
      s.sha256 === file.sha256 &&
      s.chunkSize > 0 &&
      Array.isArray(s.done);
    return same ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveState(dest: string, state: DownloadState): void {
  const tmp = `${statePath(dest)}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, statePath(dest));
}

export function missingChunks(state: DownloadState): number[] {
  const count = Math.ceil(state.size / state.chunkSize);
  const done = new Set(state.done);
  return Array.from({ length: count }, (_, i) => i).filter((i) => !done.has(i));
}

export interface DownloadResult {
  dest: string;
  bytesFetched: number;
  chunksSkipped: number;
  chunkCount: number;
}

/** Signed URLs expire; these statuses mean "ask for a new link". */
const EXPIRED = new Set([401, 403, 410]);

async function fetchChunk(
  handle: FileHandle,
  link: (expired?: string) => Promise<string>,
  range: { start: number; end: number },
  total: number,
  bar: Meter,
): Promise<void> {
  let url = await link();
  const res = await (async () => {
    for (let fresh = false; ; fresh = true) {
      const r = await request(url, { headers: { range: `bytes=${range.start}-${range.end - 1}` } });
      if (!EXPIRED.has(r.status) || fresh) return r;
      await r.arrayBuffer();
      url = await link(url);
    }
  })();
  const whole = range.start === 0 && range.end === total;
  if (!(res.status === 206 || (res.status === 200 && whole))) {
    throw await httpError(`bytes ${range.start}-${range.end - 1}`, res);
  }
  let pos = range.start;
  try {
    for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      if (pos + chunk.length > range.end)
        throw new HttpError("the server sent more bytes than asked for", 502);
      await handle.write(chunk, 0, chunk.length, pos);
      pos += chunk.length;
      bar.advance(chunk.length);
    }
  } catch (err) {
    bar.advance(range.start - pos); // this chunk starts over
    throw err instanceof HttpError ? err : new NetworkError(`download interrupted: ${err}`);
  }
  if (pos !== range.end) {
    bar.advance(range.start - pos);
    throw new NetworkError("the connection closed before the chunk was complete");
  }
}

export interface DownloadContext {
  session: Session;
  downloads: Client<typeof DownloadService>;
  /** Shared by every file of the command: bounds the chunks in flight. */
  chunks: Limiter;
}

export async function downloadFile(
  ctx: DownloadContext,
  file: File,
  dest: string,
  bar: Meter,
  chunkSize = CHUNK_SIZE,
  /** An earlier content of the file (FileService.ListVersions); `file` then carries its size and hash. */
  versionId = "",
): Promise<DownloadResult> {
  const size = Number(file.size);
  let state = loadState(dest, file);
  const resumed = state !== undefined;
  state ??= { version: 1, fileId: file.id, size, sha256: file.sha256, chunkSize, done: [] };
  const handle = await open(partialPath(dest), resumed ? "r+" : "w");
  const chunkCount = Math.ceil(size / state.chunkSize);
  const todo = missingChunks(state);
  let fetched = 0;
  try {
    await handle.truncate(size);
    if (!resumed) saveState(dest, state);
    else {
      const missing = todo
        .map((i) => chunkRange(i, state.chunkSize, size))
        .reduce((n, r) => n + r.end - r.start, 0);
      bar.skip(size - missing);
      bar.status(`resuming: ${chunkCount - todo.length} of ${chunkCount} chunks already here`);
    }
    // One signed link for all chunks, renewed (once per expiry) when the server stops accepting it.
    let current: Promise<string> | undefined;
    let used: string | undefined;
    const link = (expired?: string): Promise<string> => {
      if (!current || (expired !== undefined && expired === used)) {
        current = ctx.downloads.createDownloadUrl({ fileId: file.id, versionId }).then((r) => {
          used = ctx.session.url(r.url).href;
          return used;
        });
      }
      return current;
    };
    const s = state;
    let saving = Promise.resolve();
    await forEach(todo, ctx.chunks, async (i) => {
      const range = chunkRange(i, s.chunkSize, size);
      await withRetry(() => fetchChunk(handle, link, range, size, bar));
      fetched += range.end - range.start;
      // Recorded only after the bytes are on disk, so a crash never marks a chunk it did not keep.
      saving = saving.then(async () => {
        await handle.datasync();
        s.done.push(i);
        saveState(dest, s);
      });
      await saving;
    });
  } finally {
    await handle.close();
  }
  bar.status("verifying SHA-256");
  const actual = await sha256File(partialPath(dest));
  if (actual !== file.sha256) {
    rmSync(partialPath(dest), { force: true });
    rmSync(statePath(dest), { force: true });
    throw new Error(
      `the downloaded bytes of ${file.name} do not match its SHA-256 (removed them): try again`,
    );
  }
  renameSync(partialPath(dest), dest);
  rmSync(statePath(dest), { force: true });
  bar.finish(resumed ? `done (resumed; ${todo.length} of ${chunkCount} chunks fetched)` : "done");
  return { dest, bytesFetched: fetched, chunksSkipped: chunkCount - todo.length, chunkCount };
}
