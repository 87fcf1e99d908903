// The transfer commands of `filestore`: upload and download (resumable, parallel, with progress bars).
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import { FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import { intOption, UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { downloadFile, partialPath, statePath } from "./download.ts";
import { describe } from "./errors.ts";
import { Limiter } from "./pool.ts";
import { formatBytes, Progress } from "./progress.ts";
import { resolveFile, resolveFolder } from "./remote.ts";
import { Session } from "./session.ts";
import { uploadFile } from "./upload.ts";

const PARALLEL = {
  type: "string",
  short: "p",
  value: "N",
  description: "transfers in flight at once (default 4)",
} as const;

const JSON_OUT = { type: "boolean", description: "print the result as one JSON object per file" } as const;

const upload: Handler = async (env, args, options) => {
  const parallel = intOption(options, "parallel", 4, 1, 64);
  for (const p of args) {
    if (!existsSync(p)) throw new UsageError(`no such file: ${p}`);
    if (statSync(p).isDirectory()) throw new UsageError(`${p} is a folder: give the files in it`);
  }
  const session = new Session(env.server, env.store);
  session.credentials(); // fail before hashing anything when not signed in
  const files = session.client(FileService);
  const to = typeof options.to === "string" ? options.to : "/";
  const parent = to === "/" ? { id: "" } : await resolveFolder(files, to);
  const ctx = { session, uploads: session.client(UploadService), files, parts: new Limiter(parallel) };
  const progress = new Progress(process.stderr);
  const bars = args.map((p) => progress.add(basename(p), statSync(p).size));
  env.onInterrupt = () => {
    progress.stop();
    process.stderr.write("interrupted: run the same command again to resume the upload\n");
  };
  const fileSlots = new Limiter(Math.min(parallel, 4));
  const results = await Promise.all(
    args.map((path, i) =>
      fileSlots.run(async () => {
        const bar = bars[i] as (typeof bars)[number];
        try {
          return {
            path,
            ok: await uploadFile(ctx, path, { parentId: parent.id, instant: !options["no-instant"] }, bar),
          };
        } catch (err) {
          bar.finish("failed");
          return { path, err };
        }
      }),
    ),
  );
  progress.stop();
  env.onInterrupt = undefined;
  const where = (name: string) => `${to.replace(/\/?$/, "/")}${name}`;
  let failed = 0;
  for (const r of results) {
    if (!r.ok) {
      failed++;
      process.stderr.write(`filestore: ${r.path}: ${describe(r.err)}\n`);
      continue;
    }
    const { file, how, partsSent, partsSkipped, partCount, bytesSent } = r.ok;
    if (options.json) {
      const { id, name, sha256 } = file;
      env.out(
        JSON.stringify({
          path: r.path,
          id,
          name,
          size: Number(file.size),
          sha256,
          how,
          partCount,
          partsSent,
          partsSkipped,
          bytesSent,
        }),
      );
      continue;
    }
    const what = `uploaded ${r.path} → ${where(file.name)} (${formatBytes(Number(file.size))}, id ${file.id})`;
    env.out(
      how === "instant"
        ? `${what}: instant, the server already had the content`
        : `${what}: ${partsSent} of ${partCount} parts sent (${bytesSent} bytes), ${partsSkipped} already on the server`,
    );
  }
  return failed > 0 ? 1 : 0;
};

/** Where a download goes: the given path, inside it when it is a folder, else the file's name here. */
export function destinationFor(name: string, dest: string | undefined): string {
  const safe = name.replace(/[/\\]/g, "_").replace(/^\.\.?$/, "_") || "download";
  if (dest === undefined) return safe;
  if (dest.endsWith("/") || (existsSync(dest) && statSync(dest).isDirectory())) return join(dest, safe);
  return dest;
}

const download: Handler = async (env, args, options) => {
  const parallel = intOption(options, "parallel", 4, 1, 64);
  const session = new Session(env.server, env.store);
  const file = await resolveFile(session.client(FileService), args[0] as string);
  const dest = destinationFor(file.name, args[1]);
  if (existsSync(dest) && !existsSync(statePath(dest)) && !options.force) {
    throw new UsageError(`${dest} exists: use --force to overwrite it`);
  }
  const progress = new Progress(process.stderr);
  const bar = progress.add(file.name, Number(file.size));
  env.onInterrupt = () => {
    progress.stop();
    process.stderr.write(
      `interrupted: run the same command again to resume (${partialPath(dest)} is kept)\n`,
    );
  };
  try {
    const r = await downloadFile(
      { session, downloads: session.client(DownloadService), chunks: new Limiter(parallel) },
      file,
      dest,
      bar,
    );
    progress.stop();
    if (options.json) {
      env.out(JSON.stringify({ id: file.id, sha256: file.sha256, size: Number(file.size), ...r }));
      return 0;
    }
    env.out(
      `downloaded ${args[0]} → ${dest} (${formatBytes(Number(file.size))}, SHA-256 verified): ${r.chunkCount - r.chunksSkipped} of ${r.chunkCount} chunks fetched, ${r.chunksSkipped} resumed`,
    );
    return 0;
  } catch (err) {
    bar.finish("failed");
    progress.stop();
    throw err;
  } finally {
    env.onInterrupt = undefined;
  }
};

export const UPLOAD: Command = {
  name: "upload",
  usage: "<paths…>",
  summary: "upload files (instant when the server has the content; resumable, parallel parts)",
  details:
    "Interrupted uploads resume: run the same command again and only the missing parts are sent.\nProgress goes to stderr (bars on a terminal, lines otherwise); a summary line per file to stdout.",
  options: {
    to: { type: "string", short: "t", value: "folder", description: "remote folder (default /)" },
    parallel: PARALLEL,
    "no-instant": { type: "boolean", description: "always send the bytes (skip the instant upload offer)" },
    json: JSON_OUT,
  },
  minArgs: 1,
  maxArgs: Number.POSITIVE_INFINITY,
  run: upload,
};

export const DOWNLOAD: Command = {
  name: "download",
  usage: "<path> [dest]",
  summary: "download a file (parallel ranges, resumable, SHA-256 verified)",
  details:
    "The bytes go to <dest>.filestore-part with a .json state beside it; run the same command again to\nresume. dest defaults to the file's name in the current folder; an existing folder receives the file.",
  options: {
    parallel: PARALLEL,
    force: { type: "boolean", short: "f", description: "overwrite an existing destination" },
    json: JSON_OUT,
  },
  minArgs: 1,
  maxArgs: 2,
  run: download,
};
