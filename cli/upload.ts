// `filestore upload`: one local file to the server. The SHA-256 is computed locally first; the server is
// offered the content (instant upload: it answers with a random byte range whose hash proves possession,
// and links the file if it holds that content; a failed proof means "upload it"). Otherwise a multipart session is opened with resume=true: an open
// session for the same content (left by an interrupted run) is found again by its hash, its parts are
// listed, and only the missing ones are sent, in parallel, each with its own SHA-256 checked by the
// server. Nothing is kept locally between runs: the server's session is the state. The conflict policy
// (--on-conflict) travels with the offer and the session; the server applies it where the file appears.
import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import type { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import { ConflictPolicy } from "./conflict.ts";
import { forEach, httpError, type Limiter, request, withRetry } from "./pool.ts";
import type { Meter } from "./progress.ts";
import { type Files, withSideFolder } from "./remote.ts";
import type { Session } from "./session.ts";

export interface UploadContext {
  session: Session;
  uploads: Client<typeof UploadService>;
  files: Files;
  /** Shared by every file of the command: bounds the parts in flight. */
  parts: Limiter;
}

export interface UploadResult {
  file: File;
  how: "instant" | "uploaded";
  partCount: number;
  partsSent: number;
  partsSkipped: number;
  bytesSent: number;
}

const hex = (h: Bun.CryptoHasher) => h.digest("hex");

/** SHA-256 of a file or a slice of one, streamed (memory stays flat); `onBytes` reports progress. */
async function sha256Of(blob: Blob, onBytes?: (n: number) => void): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of blob.stream() as unknown as AsyncIterable<Uint8Array>) {
    h.update(chunk);
    onBytes?.(chunk.length);
  }
  return hex(h);
}

export const sha256File = (path: string, onBytes?: (n: number) => void): Promise<string> =>
  sha256Of(Bun.file(path), onBytes);

export const rangeSha256 = (path: string, start: number, length: number): Promise<string> =>
  sha256Of(Bun.file(path).slice(start, start + length));

/** The file is no longer the one being uploaded: its session can never complete. */
class FileChanged extends Error {}

/** Throws FileChanged when the file's size or modification time moved. */
async function assertUnchanged(path: string, was: Stats): Promise<void> {
  const now = await stat(path);
  if (now.size !== was.size || now.mtimeMs !== was.mtimeMs) {
    throw new FileChanged(`${path} changed while it was being uploaded: upload it again once it is complete`);
  }
}

/** The byte range [start, end) of part n (1-based). */
export function partRange(n: number, partSize: number, size: number): { start: number; end: number } {
  const start = (n - 1) * partSize;
  return { start, end: Math.min(size, start + partSize) };
}

/** Part numbers still to send, given the parts the server holds (a part of the wrong size is re-sent). */
export function missingParts(
  partCount: number,
  partSize: number,
  size: number,
  held: { partNumber: number; size: bigint }[],
): number[] {
  const ok = new Set(
    held
      .filter((p) => {
        const r = partRange(p.partNumber, partSize, size);
        return Number(p.size) === r.end - r.start;
      })
      .map((p) => p.partNumber),
  );
  return Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !ok.has(n));
}

async function tryInstant(
  ctx: UploadContext,
  path: string,
  offer: { sha256: string; size: bigint; name: string; parentId: string; onConflict: ConflictPolicy },
): Promise<File | undefined> {
  const challenge = await ctx.uploads.offerContent(offer);
  if (!challenge.challengeId) return undefined; // a server before every offer got a challenge
  const proof = await rangeSha256(path, Number(challenge.rangeStart), Number(challenge.rangeLength));
  try {
    const { file } = await ctx.uploads.proveContent({
      challengeId: challenge.challengeId,
      rangeSha256: proof,
    });
    return file;
  } catch (err) {
    // The server does not hold this content (it answers that exactly like a wrong proof, so that nobody
    // learns who holds what), or it went away, or the file changed: upload it instead.
    if (ConnectError.from(err).code === Code.FailedPrecondition) return undefined;
    throw err;
  }
}

/** Where an upload goes, and what happens when that folder already holds its name. */
export interface UploadTarget {
  parentId: string;
  instant: boolean;
  onConflict: ConflictPolicy;
}

/**
 * Completes the session into the target folder. A resumed session keeps the conflict policy it was opened
 * with, maybe by another run with another --on-conflict: it is then completed into a folder of its own and
 * moved into the target folder under this run's policy (MoveFile applies it; no byte moves).
 */
async function complete(
  ctx: UploadContext,
  s: { sessionId: string; resumed: boolean },
  name: string,
  target: UploadTarget,
): Promise<File> {
  const into = async (parentId: string) => {
    const { file } = await ctx.uploads.completeUploadSession({ sessionId: s.sessionId, name, parentId });
    if (!file) throw new ConnectError("the server completed the upload without a file", Code.Internal);
    return file;
  };
  if (!s.resumed || target.onConflict === ConflictPolicy.FAIL) return into(target.parentId);
  return withSideFolder(ctx.files, `upload-${s.sessionId.slice(0, 16)}`, async (side) => {
    const done = await into(side.id);
    const { file } = await ctx.files.moveFile({
      id: done.id,
      newParentId: target.parentId,
      onConflict: target.onConflict,
    });
    if (!file) throw new ConnectError("the server moved the upload without answering it", Code.Internal);
    return file;
  });
}

export async function uploadFile(
  ctx: UploadContext,
  path: string,
  target: UploadTarget,
  bar: Meter,
): Promise<UploadResult> {
  const info = await stat(path);
  const size = info.size;
  const name = basename(path).normalize("NFC");
  bar.status("hashing");
  const sha256 = await sha256File(path);
  const offer = {
    sha256,
    size: BigInt(size),
    name,
    parentId: target.parentId,
    onConflict: target.onConflict,
  };
  if (target.instant) {
    bar.status("offering the content (instant upload)");
    const file = await tryInstant(ctx, path, offer);
    if (file) {
      bar.skip(size);
      bar.finish("instant upload: the server already had this content");
      return { file, how: "instant", partCount: 0, partsSent: 0, partsSkipped: 0, bytesSent: 0 };
    }
  }
  const s = await ctx.uploads.createUploadSession({ ...offer, resume: true });
  const partSize = Number(s.partSize);
  let todo = Array.from({ length: s.partCount }, (_, i) => i + 1);
  if (s.resumed) {
    const { parts } = await ctx.uploads.listParts({ sessionId: s.sessionId });
    todo = missingParts(s.partCount, partSize, size, parts);
    const skipped = s.partCount - todo.length;
    for (let n = 1; n <= s.partCount; n++) {
      if (!todo.includes(n)) {
        const r = partRange(n, partSize, size);
        bar.skip(r.end - r.start);
      }
    }
    bar.status(`resuming: ${skipped} of ${s.partCount} parts already uploaded`);
  } else {
    bar.status(`uploading ${s.partCount} part${s.partCount === 1 ? "" : "s"}`);
  }
  const presigned = new Map(s.presignedParts.map((p) => [p.partNumber, p.url]));
  let bytesSent = 0;
  try {
    await forEach(todo, ctx.parts, async (n) => {
      const { start, end } = partRange(n, partSize, size);
      // A part is read from the file twice (hashed, then sent) rather than held in memory: parts are up to
      // 64 MiB and several are in flight. The file must not change meanwhile; the server checks the part's
      // hash, and the whole file's at completion.
      const body = Bun.file(path).slice(start, end);
      await withRetry(async () => {
        await assertUnchanged(path, info);
        const url = presigned.get(n);
        const res = url
          ? await request(url, { method: "PUT", body })
          : await ctx.session.fetch(ctx.session.url(`${s.partUrl}${n}`), {
              method: "PUT",
              headers: { "x-content-sha256": await sha256Of(body) },
              body,
            });
        await assertUnchanged(path, info);
        if (!res.ok) throw await httpError(`part ${n} of ${name}`, res);
        await res.arrayBuffer();
      });
      bytesSent += end - start;
      bar.advance(end - start);
    });
  } catch (err) {
    // Its parts are of content that no longer exists: free them now (best effort: the session expires anyway).
    if (err instanceof FileChanged)
      await ctx.uploads.abortUploadSession({ sessionId: s.sessionId }).catch(() => {});
    throw err;
  }
  bar.status("completing");
  // A resumed session may have been opened for another folder: completion puts it in this one.
  const file = await complete(ctx, s, name, target);
  bar.finish(s.resumed ? `done (resumed; ${todo.length} of ${s.partCount} parts sent)` : "done");
  return {
    file,
    how: "uploaded",
    partCount: s.partCount,
    partsSent: todo.length,
    partsSkipped: s.partCount - todo.length,
    bytesSent,
  };
}
