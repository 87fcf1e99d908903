// The local-disk blob store (the embedded default; layout.ts describes its files): the core, the parts
// and the local capabilities (file reads, free space), composed from the files of this folder.
import { mkdir, open, stat, statfs } from "node:fs/promises";
import type { BunFile } from "bun";
import { checkRange } from "../common.ts";
import { digestFile } from "../digest.ts";
import { BlobNotFoundError, RangeNotSatisfiableError } from "../errors.ts";
import { canWriteBehind } from "../libc.ts";
import type {
  BlobStoreCore,
  FileReads,
  FreeSpace,
  MultipartParts,
  ObjectListing,
  OpenBlob,
  Range,
} from "../types.ts";
import {
  type AssembleEvent,
  assembleLocalParts,
  deleteLocalParts,
  discardLocalAssembly,
  listLocalParts,
  readLocalPart,
} from "./assemble.ts";
import { removeFile, sweepOldFiles } from "./cleanup.ts";
import { isNotFound } from "./durable.ts";
import { type Layout, layoutOf } from "./layout.ts";
import { listLocalBlobs } from "./listing.ts";
import { type PartsContext, putLocalPart } from "./part-write.ts";
import { OpenSessions } from "./records.ts";
import { SessionHashes } from "./session-hash.ts";
import { stageLocal } from "./stage.ts";

export interface LocalBlobStoreOptions {
  /** Sessions whose whole-file hash is kept going as parts arrive (least recently used dropped beyond). Default 16; 0 turns it off. */
  maxSessionHashes?: number;
  /** Such a hash untouched this long (ms) is dropped (its session may have died elsewhere). Default 30 min. */
  sessionHashIdleMs?: number;
  onAssemble?: (event: AssembleEvent) => void;
  /**
   * Files in tmp/ not written to for this long (ms) are leftovers of a crash (a body being written) and
   * are removed at start and every hour. Default 24 h: far beyond any live write's silence.
   */
  tmpMaxAgeMs?: number;
  /**
   * Bodies start going to disk as they arrive through sync_file_range (libc.ts). Default: where the system
   * has it (Linux); false: a background fdatasync every few MiB instead (the only way elsewhere).
   */
  writeBehind?: boolean;
}

/** What a local store is: the core, the parts, reads of its files, free space and a listing. */
export type LocalBlobStore = BlobStoreCore & MultipartParts & FileReads & FreeSpace & ObjectListing;

/** The size of a committed blob's file; BlobNotFoundError when it is gone. */
async function blobSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (isNotFound(err)) throw new BlobNotFoundError();
    throw err;
  }
}

/** Reads of committed blobs: streams, Blobs that Bun.serve sends with sendfile(2), and their SHA-1. */
function fileReads(layout: Layout) {
  // Bun.file handles of recently read blobs: many range requests of one file reuse one (creating a handle
  // per request showed in profiles). A handle is only a path; a deleted blob still fails when it is read.
  const handles = new Map<string, BunFile>();
  function fileHandle(location: string): BunFile {
    let file = handles.get(location);
    if (!file) {
      file = Bun.file(layout.filePathOf(location));
      if (handles.size >= 1024) handles.delete(handles.keys().next().value as string);
      handles.set(location, file);
    }
    return file;
  }
  return {
    handles,
    async read(location: string, range?: Range): Promise<ReadableStream<Uint8Array>> {
      const path = layout.filePathOf(location);
      checkRange(range);
      const size = await blobSize(path);
      const file = Bun.file(path);
      if (!range) return file.stream();
      if (range.start >= size) throw new RangeNotSatisfiableError(size);
      return file.slice(range.start, Math.min(range.end, size - 1) + 1).stream();
    },
    async openBlob(location: string): Promise<OpenBlob> {
      const path = layout.filePathOf(location);
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(path, "r");
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError();
        throw err;
      }
      return {
        read: async (into, position) => (await handle.read(into, 0, into.byteLength, position)).bytesRead,
        close: () => handle.close(),
      };
    },
    readBlob(location: string, range?: Range): Blob {
      checkRange(range);
      const file = fileHandle(location);
      return range ? file.slice(range.start, range.end + 1) : file;
    },
    relativePath(location: string): string {
      layout.filePathOf(location); // checks it names a committed blob, nothing else
      return location;
    },
    async sha1Of(location: string): Promise<string> {
      const path = layout.filePathOf(location);
      const size = await blobSize(path);
      const digest = digestFile(path, ["sha1"]);
      return (await digest.finish(size)).sha1 ?? "";
    },
  };
}

export async function createLocalBlobStore(
  root: string,
  options: LocalBlobStoreOptions = {},
): Promise<LocalBlobStore> {
  const layout = layoutOf(root);
  await mkdir(layout.tmpDir, { recursive: true });
  await mkdir(layout.blobsDir, { recursive: true });
  await mkdir(layout.partsDir, { recursive: true });

  const hashes = new SessionHashes({
    maxHashes: options.maxSessionHashes ?? 16,
    idleMs: options.sessionHashIdleMs ?? 30 * 60_000,
    dataPath: layout.dataPath,
  });
  const writeBehind = options.writeBehind ?? canWriteBehind();
  const ctx: PartsContext = { layout, writeBehind, sessions: new OpenSessions(layout), hashes };

  // Crash leftovers in tmp/ (bodies being written) go after tmpMaxAgeMs of silence.
  const tmpMaxAgeMs = options.tmpMaxAgeMs ?? 24 * 3600_000;
  await sweepOldFiles(layout.tmpDir, tmpMaxAgeMs);
  const tmpSweep = setInterval(() => void sweepOldFiles(layout.tmpDir, tmpMaxAgeMs), 3600_000);
  tmpSweep.unref();

  const { handles, read, openBlob, readBlob, sha1Of, relativePath } = fileReads(layout);
  return {
    backend: "local",
    stage: (body, opts) => stageLocal(layout, writeBehind, body, opts),
    read,
    openBlob,
    readBlob,
    sha1Of,
    relativePath,

    async stat(location: string) {
      const path = layout.filePathOf(location);
      try {
        return { size: (await stat(path)).size };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async delete(location: string) {
      await removeFile(layout.tmpDir, layout.filePathOf(location));
      handles.delete(location);
    },

    putPart: (sessionId, partNumber, body, opts) => putLocalPart(ctx, sessionId, partNumber, body, opts),
    listParts: (sessionId) => listLocalParts(layout, sessionId),
    readPart: (sessionId, partNumber) => readLocalPart(layout, sessionId, partNumber),
    assembleParts: (sessionId, partCount, opts) =>
      assembleLocalParts(ctx, options.onAssemble, sessionId, partCount, opts),
    discardAssembly: (sessionId) => discardLocalAssembly(layout, sessionId),
    deleteParts: (sessionId) => deleteLocalParts(ctx, sessionId),

    listObjects: () => listLocalBlobs(layout),

    async availableBytes() {
      const fs = await statfs(layout.root);
      return fs.bavail * fs.bsize;
    },

    close() {
      clearInterval(tmpSweep);
      hashes.close();
    },
  };
}
