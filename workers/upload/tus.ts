// tus 1.0.0 (core, creation, termination, checksum with sha1/sha256) on the multipart session machinery:
// a tus upload is an upload session; its bytes fill the session's parts in order. A PATCH that breaks
// off keeps every part it finished and what arrived of the part it was writing (on local disk; on S3 the
// earlier copy of that part), so HEAD reports an offset the client can resume from. The file appears when the last byte arrives (and checks out).
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { TUS_PATH } from "../../core/data-paths.ts";
import { classifyFailure, isInsufficientStorage, REQUEST_ID_HEADER } from "../../core/failure.ts";
import { currentRequestId } from "../lib/interceptors.ts";
import { reopenAbandoned } from "./completion-lease.ts";
import type { SessionDeps } from "./sessions.ts";
import * as sessions from "./sessions.ts";
import { conflictParam } from "./upload.ts";

export { TUS_PATH };

const TUS_VERSION = "1.0.0";
const EXTENSIONS = "creation,termination,checksum";
const ALGORITHMS: Record<string, "sha1" | "sha256"> = { sha1: "sha1", sha256: "sha256" };

class TusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const baseHeaders = { "Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store" };

/** Upload-Metadata: "key base64,key base64,...". */
export function parseMetadata(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? "").split(",")) {
    const [key, value] = pair.trim().split(" ");
    if (!key) continue;
    out[key] = value ? Buffer.from(value, "base64").toString("utf8") : "";
  }
  return out;
}

/** The offset reached: whole parts from 1 on, plus the stored beginning of the next one. */
async function offsetOf(
  deps: SessionDeps,
  s: Awaited<ReturnType<typeof sessions.ownSession>>,
): Promise<number> {
  const sizes = new Map((await deps.blobs.listParts(s.id)).map((p) => [p.partNumber, p.size]));
  let offset = 0;
  for (let n = 1; n <= s.partCount; n++) {
    const size = sizes.get(n);
    if (size === undefined) break;
    offset += size;
    if (size < sessions.partSizeOf(s, n)) break;
  }
  return offset;
}

/** Up to `limit` bytes from `reader`, pushing back what it read beyond that. */
async function* take(
  src: { reader: ReadableStreamDefaultReader<Uint8Array>; rest?: Uint8Array },
  limit: number,
) {
  let left = limit;
  while (left > 0) {
    let chunk = src.rest;
    src.rest = undefined;
    if (!chunk) {
      const r = await src.reader.read();
      if (r.done) return;
      chunk = r.value;
    }
    if (chunk.length > left) {
      src.rest = chunk.subarray(left);
      chunk = chunk.subarray(0, left);
    }
    left -= chunk.length;
    yield chunk;
  }
}

async function* prefixed(prefix: AsyncIterable<Uint8Array>, rest: AsyncIterable<Uint8Array>) {
  yield* prefix;
  yield* rest;
}

async function patch(deps: SessionDeps, who: Identity, id: string, req: Request): Promise<Response> {
  if (req.headers.get("content-type") !== "application/offset+octet-stream") {
    throw new TusError(415, "PATCH bodies are application/offset+octet-stream");
  }
  const s = await sessions.ownSession(deps, who, id);
  // A completion that died is abandoned (after its lease), and the bytes go on; a live one: 423, later.
  if (s.state === "completing") await reopenAbandoned(deps, s);
  else if (s.state !== "open")
    throw new TusError(s.state === "completed" ? 409 : 404, `the upload is ${s.state}`);
  const offset = await offsetOf(deps, s);
  const claimed = req.headers.get("upload-offset");
  if (claimed === null || !/^\d+$/.test(claimed)) throw new TusError(400, "Upload-Offset is required");
  if (Number(claimed) !== offset)
    throw new TusError(409, `the upload is at offset ${offset}, not ${claimed}`);
  const length = Number(s.size);
  const remaining = length - offset;

  let body: ReadableStream<Uint8Array> = req.body ?? new Blob([]).stream();
  let checked: { location: string } | undefined;
  const checksum = req.headers.get("upload-checksum");
  if (checksum) {
    // Verify the whole PATCH before any of it counts: stage it aside, compare, then feed the parts from there.
    const [algo, digest] = checksum.split(" ");
    const kind = ALGORITHMS[algo ?? ""];
    if (!kind || !digest)
      throw new TusError(400, "Upload-Checksum must be 'sha1 <base64>' or 'sha256 <base64>'");
    const staged = await deps.blobs
      .stage(body, { maxBytes: remaining, skipSha1: kind !== "sha1" })
      .catch((err) => {
        throw new TusError(413, String((err as Error).message));
      });
    if (Buffer.from(staged[kind], "hex").toString("base64") !== digest) {
      await staged.discard();
      deps.metrics?.hashMismatch();
      throw new TusError(460, "checksum mismatch: send this chunk again");
    }
    checked = { location: await staged.commit() };
    body = await deps.blobs.read(checked.location).catch(async (err) => {
      await deps.blobs.delete(checked?.location as string);
      throw err;
    });
  }

  const src = { reader: body.getReader(), rest: undefined as Uint8Array | undefined };
  let at = offset;
  try {
    for (let n = Math.floor(offset / Number(s.partSize)) + 1; n <= s.partCount && at < length; n++) {
      const expected = sessions.partSizeOf(s, n);
      const within = at - (n - 1) * Number(s.partSize);
      const source = take(src, expected - within);
      const content = within > 0 ? prefixed(await deps.blobs.readPart(id, n), source) : source;
      const info = await deps.blobs.putPart(id, n, content, {
        maxBytes: expected,
        offset: sessions.partOffset(s, n),
        skipSha1: true,
        wholeSha1: Boolean(s.sha1),
        keepPartial: true, // a broken PATCH keeps what arrived: the client resumes from there
      });
      at = (n - 1) * Number(s.partSize) + info.size;
      // Recorded like any part: the bytes a session has stored count against the space it declared.
      await deps.meta.recordUploadPart({
        part: { sessionId: id, partNumber: n, size: BigInt(info.size), sha256: info.sha256 },
      });
      if (info.size < expected) break; // the body ended inside this part
    }
    if (at === length) {
      const extra = src.rest ?? (await src.reader.read()).value;
      if (extra && extra.length > 0) throw new TusError(413, "the body goes past Upload-Length");
    }
  } catch (err) {
    // Full storage or a store that is down is said as such (507, 503), not taken for a broken connection.
    if (err instanceof TusError || classifyFailure(err).kind !== "other") throw err;
    // A broken connection: what was stored stays; the client asks HEAD and resumes.
    return new Response(null, {
      status: 400,
      headers: { ...baseHeaders, "Upload-Offset": String(await offsetOf(deps, s)) },
    });
  } finally {
    if (checked) await deps.blobs.delete(checked.location).catch(() => undefined);
  }
  if (at === length) {
    await sessions.completeSession(deps, who, id);
    deps.metrics?.tus("completed");
  }
  return new Response(null, { status: 204, headers: { ...baseHeaders, "Upload-Offset": String(at) } });
}

/** Handles tus requests under TUS_PATH; undefined for other paths. */
export async function handleTus(
  deps: SessionDeps,
  req: Request,
  url: URL,
  identify: () => Promise<Identity>,
): Promise<Response | undefined> {
  if (!url.pathname.startsWith(TUS_PATH)) return undefined;
  const id = url.pathname.slice(TUS_PATH.length);
  try {
    if (req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...baseHeaders,
          "Tus-Version": TUS_VERSION,
          "Tus-Extension": EXTENSIONS,
          "Tus-Max-Size": String(deps.maxUploadBytes),
          "Tus-Checksum-Algorithm": "sha1,sha256",
        },
      });
    }
    if (req.headers.get("tus-resumable") !== TUS_VERSION) {
      throw new TusError(412, `this server speaks tus ${TUS_VERSION}`);
    }
    const who = await identify();
    if (req.method === "POST" && id === "") {
      const length = req.headers.get("upload-length");
      if (length === null || !/^\d{1,16}$/.test(length)) {
        throw new TusError(400, "Upload-Length is required (deferred lengths are not supported)");
      }
      if (Number(length) > deps.maxUploadBytes)
        throw new TusError(413, `Upload-Length is over Tus-Max-Size (${deps.maxUploadBytes} bytes)`);
      const meta = parseMetadata(req.headers.get("upload-metadata"));
      const s = await sessions
        .createSession(deps, who, {
          name: meta.filename ?? meta.name ?? "",
          parentId: meta.parent_id ?? "",
          onConflict: conflictParam(meta.on_conflict ?? url.searchParams.get("on_conflict")),
          size: BigInt(length),
          sha256: meta.sha256,
        })
        .catch((err) => {
          // Storage full, or too many open uploads: the server cannot take this upload now (507, as tusd
          // and WebDAV answer a full store; 413 is the spec's answer for a length over Tus-Max-Size only).
          const e = ConnectError.from(err);
          if (e.code === Code.ResourceExhausted) throw new TusError(507, e.rawMessage);
          throw err;
        });
      const headers = { ...baseHeaders, Location: `${TUS_PATH}${s.id}` };
      deps.metrics?.tus("created");
      if (length === "0") {
        await sessions.completeSession(deps, who, s.id);
        deps.metrics?.tus("completed");
      }
      return new Response(null, { status: 201, headers });
    }
    if (id === "" || id.includes("/")) throw new TusError(404, "no such upload");
    if (req.method === "HEAD") {
      let s = await sessions.ownSession(deps, who, id);
      // Every byte arrived and the completion that PATCH started may have died: complete it (taking it over
      // once its lease ran out), so that the offset reported never claims a file that does not exist.
      if (s.state === "completing") {
        const busy = await sessions.completeSession(deps, who, id).then(
          () => undefined,
          (err) => ConnectError.from(err).rawMessage,
        );
        s = await sessions.ownSession(deps, who, id);
        if (s.state === "completing") throw new TusError(423, busy ?? "the upload is being completed");
      }
      if (s.state === "aborted") throw new TusError(404, "the upload was terminated");
      const offset = s.state === "completed" ? Number(s.size) : await offsetOf(deps, s);
      return new Response(null, {
        status: 200,
        headers: { ...baseHeaders, "Upload-Offset": String(offset), "Upload-Length": String(s.size) },
      });
    }
    if (req.method === "PATCH") return await patch(deps, who, id, req);
    if (req.method === "DELETE") {
      await sessions.abortSession(deps, who, id);
      return new Response(null, { status: 204, headers: baseHeaders });
    }
    throw new TusError(405, "use OPTIONS, POST, HEAD, PATCH or DELETE");
  } catch (err) {
    if (err instanceof TusError) {
      // A refusal of the server's (507: no room for the upload now) names the request, as every 5xx does.
      const rid = err.status >= 500 ? currentRequestId.getStore() : undefined;
      return new Response(`${err.message}\n`, {
        status: err.status,
        headers: {
          ...baseHeaders,
          "Content-Type": "text/plain",
          ...(err.status === 412 ? { "Tus-Version": TUS_VERSION } : {}),
          ...(rid ? { [REQUEST_ID_HEADER]: rid } : {}),
        },
      });
    }
    const e = ConnectError.from(err);
    // No room (full storage, or the quota: ResourceExhausted of their own kind) and unexpected errors: the
    // caller answers them (507, 500).
    const status = isInsufficientStorage(e)
      ? 500
      : e.code === Code.NotFound
        ? 404
        : e.code === Code.Unauthenticated
          ? 401
          : e.code === Code.InvalidArgument
            ? 400
            : e.code === Code.FailedPrecondition || e.code === Code.AlreadyExists
              ? 409
              : e.code === Code.ResourceExhausted
                ? 413
                : e.code === Code.Aborted
                  ? 423 // busy (a completion, or another request on the same part): retry
                  : 500;
    if (status === 500) throw err;
    return new Response(`${e.rawMessage}\n`, {
      status,
      headers: { ...baseHeaders, "Content-Type": "text/plain" },
    });
  }
}
