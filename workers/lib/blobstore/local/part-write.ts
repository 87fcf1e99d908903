// Writing one part of a multipart session in place in the session's file (local store), under the
// session's lock (shared) and the part's (exclusive).
import { randomUUID } from "node:crypto";
import { closeSync, fstatSync, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { checkPartNumber, checkSessionId, Meter, normalizeStageOptions } from "../common.ts";
import { type Algorithm, digestFile } from "../digest.ts";
import { InvalidArgumentError, SessionSealedError } from "../errors.ts";
import type { BlobBody, BlobInfo, PartOptions } from "../types.ts";
import { copyRange, type Flush, lockedFile, makeDirDurable, PART_SYNC_EVERY, writeBody } from "./durable.ts";
import type { Layout } from "./layout.ts";
import {
  clearRecord,
  type OpenSessions,
  parseRecord,
  type SessionFiles,
  slotIn,
  writeSlot,
} from "./records.ts";
import type { SessionHashes } from "./session-hash.ts";
import { syncedAlone } from "./stage.ts";

/** What the part operations of a local store share. */
export interface PartsContext {
  layout: Layout;
  writeBehind: boolean;
  sessions: OpenSessions;
  hashes: SessionHashes;
}

/** A session's file, synced by its SyncGroup (shared with its other parts). */
const syncedShared = (files: SessionFiles, writeBehind: boolean): Flush => ({
  writeBehind,
  every: PART_SYNC_EVERY,
  run: () => files.dataSync.sync(),
});

/** putPart's work, under the session's lock (shared) and the part's (exclusive). */
async function writePart(
  ctx: PartsContext,
  sessionId: string,
  n: number,
  body: BlobBody,
  opts: PartOptions,
  files: SessionFiles,
): Promise<BlobInfo> {
  const { hashes } = ctx;
  const { offset } = opts;
  const checks = normalizeStageOptions({
    maxBytes: opts.maxBytes,
    expectedSha256: opts.expectedSha256,
    expectedSha1: opts.expectedSha1,
  });
  // Completion links the file into blobs/: from then on it is content, never to be written.
  if (fstatSync(files.data).nlink > 1) throw new SessionSealedError();
  const slot = slotIn(files.records, n);
  const old = parseRecord(slot);
  if (!old) {
    hashes.partWriting(sessionId, n);
    // A torn record of a crashed attempt, say; a slot never written (the usual first write of a part)
    // has nothing to clear.
    if (slot.some((b) => b !== 0)) await clearRecord(files, n);
  }
  const algorithms: Algorithm[] = [];
  if (checks.expectedSha256) algorithms.push("sha256");
  if (!opts.skipSha1 || checks.expectedSha1) algorithms.push("sha1");
  // A first copy is written in place. A re-sent part goes to tmp/ first and is copied into place only
  // once it has arrived whole (or, with keepPartial, longer than the earlier copy): a failed re-send
  // leaves the earlier copy as it was.
  const into = old
    ? { path: join(ctx.layout.tmpDir, randomUUID()), fd: -1, at: 0 }
    : { path: ctx.layout.dataPath(sessionId), fd: files.data, at: offset };
  if (old) into.fd = openSync(into.path, "wx+");
  const meter = new Meter(checks, false);
  let failure: unknown;
  let info: BlobInfo;
  try {
    const digest = algorithms.length > 0 ? digestFile(into.path, algorithms, { offset: into.at }) : undefined;
    try {
      // In place, parts side by side share the session file's syncs (without write-behind, background
      // ones more often than one body's: each part's answer waits for its closing sync).
      await writeBody(
        into.fd,
        into.at,
        body,
        meter,
        digest,
        old ? syncedAlone(into.fd, ctx.writeBehind) : syncedShared(files, ctx.writeBehind),
      );
      const h = digest ? await digest.finish(meter.size) : {};
      info = meter.finish({ sha256: h.sha256 ?? "", sha1: h.sha1 ?? "" });
    } catch (err) {
      digest?.cancel();
      if (!opts.keepPartial || meter.size <= (old?.size ?? 0)) throw err;
      failure = err;
      info = { size: meter.size, sha256: "", sha1: "" };
    }
    if (old) {
      hashes.partWriting(sessionId, n);
      await clearRecord(files, n);
      await copyRange(into.fd, files.data, offset, info.size);
    }
  } finally {
    if (old) {
      closeSync(into.fd);
      await rm(into.path, { force: true });
    }
  }
  // The bytes are durable before the record says they are there.
  await files.dataSync.sync();
  const line = `${offset} ${info.size} ${randomUUID()}\n`;
  slot.fill(0);
  slot.set(Buffer.from(line, "latin1"));
  writeSlot(files.records, n, slot);
  await files.recordsSync.sync();
  // A shorter part will be sent again (or is the last one's short copy): hashing it would be wasted.
  if (info.size === opts.maxBytes)
    hashes.partStored(sessionId, n, { offset, size: info.size, line }, opts.wholeSha1 === true);
  if (failure !== undefined) throw failure;
  return info;
}

/** BlobStore.putPart of the local store. */
export async function putLocalPart(
  ctx: PartsContext,
  sessionId: string,
  partNumber: number,
  body: BlobBody,
  opts: PartOptions,
): Promise<BlobInfo> {
  checkSessionId(sessionId);
  checkPartNumber(partNumber);
  const { offset } = opts;
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new InvalidArgumentError("a part's offset is a non-negative integer");
  const dir = ctx.layout.partDir(sessionId);
  await makeDirDurable(dir);
  const session = lockedFile(
    ctx.layout.lockPath(sessionId),
    "shared",
    "the upload session is being completed: wait for that answer",
  );
  try {
    const partLock = lockedFile(
      ctx.layout.partLockPath(sessionId, partNumber),
      "exclusive",
      `part ${partNumber} is being uploaded by another request: send it again once that one is answered`,
    );
    try {
      const files = await ctx.sessions.acquire(sessionId);
      try {
        return await writePart(ctx, sessionId, partNumber, body, opts, files);
      } finally {
        ctx.sessions.release(sessionId, files);
      }
    } finally {
      closeSync(partLock.fd); // releases the part's lock
    }
  } finally {
    closeSync(session.fd);
  }
}
