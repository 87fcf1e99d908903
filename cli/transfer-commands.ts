// The transfer commands of `filestore`: upload and download (resumable, parallel, with progress bars).

import { existsSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import { type File, FileSchema, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import { intOption, listOption, type OptionValues, UsageError } from "./args.ts";
import type { Command, Env, Handler } from "./commands.ts";
import { ConflictPolicy, conflictOption, NameTaken, nameTakenAt, ON_CONFLICT, within } from "./conflict.ts";
import { CHUNK_SIZE, type DownloadContext, downloadFile, partialPath, statePath } from "./download.ts";
import { downloadFolder } from "./download-tree.ts";
import { downloadZip } from "./download-zip.ts";
import { describe } from "./errors.ts";
import { asLocal } from "./local-errors.ts";
import { excluder, safeLocalName } from "./local-tree.ts";
import { Limiter } from "./pool.ts";
import { formatBytes, Progress } from "./progress.ts";
import { isFolder, listFolder, makeFolders, resolve } from "./remote.ts";
import { Session } from "./session.ts";
import { downloadShare, shareUrlParts } from "./share-download.ts";
import { type UploadContext, uploadFile } from "./upload.ts";
import { uploadFolder } from "./upload-tree.ts";
import { pickVersion, versionedFile, versionRows } from "./version-commands.ts";

const PARALLEL = {
  type: "string",
  short: "p",
  value: "N",
  description: "transfers in flight at once (default 4)",
} as const;

const JSON_OUT = { type: "boolean", description: "print the result as JSON (fields above)" } as const;

/** The per-file lines of uploads of files named one by one (as opposed to folders: upload-tree.ts). */
async function uploadFiles(
  env: Env,
  ctx: UploadContext,
  paths: string[],
  parent: File,
  to: string,
  options: OptionValues,
) {
  const onConflict = conflictOption(options);
  const where = (name: string) => within(to, name);
  // Under "fail", a taken name is refused before any byte is hashed or sent (the server still decides).
  const taken =
    onConflict === ConflictPolicy.FAIL
      ? new Set((await listFolder(ctx.files, parent.id)).map((f) => f.name))
      : new Set<string>();
  const progress = new Progress(process.stderr);
  const bars = paths.map((p) => progress.add(basename(p), statSync(p).size));
  const fileSlots = new Limiter(intOption(options, "jobs", 4, 1, 32));
  const target = { parentId: parent.id, instant: !options["no-instant"], onConflict };
  const results = await Promise.all(
    paths.map((path, i) =>
      fileSlots.run(async () => {
        const bar = bars[i] as (typeof bars)[number];
        const name = basename(path).normalize("NFC");
        try {
          if (taken.has(name)) throw new NameTaken(where(name));
          return { path, ok: await uploadFile(ctx, path, target, bar) };
        } catch (err) {
          bar.finish("failed");
          return { path, err: asLocal("read", path, nameTakenAt(err, where(name), onConflict)) };
        }
      }),
    ),
  );
  progress.stop();
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
}

const upload: Handler = async (env, args, options) => {
  const parallel = intOption(options, "parallel", 4, 1, 64);
  const jobs = intOption(options, "jobs", 4, 1, 32);
  const onConflict = conflictOption(options);
  const isDir = args.map((p) => {
    if (!existsSync(p)) throw new UsageError(`no such file or folder: ${p}`);
    return statSync(p).isDirectory();
  });
  const session = new Session(env.server, env.store);
  session.credentials(); // fail before hashing anything when not signed in
  const files = session.client(FileService);
  const to = typeof options.to === "string" ? options.to : "/";
  const parent = await makeFolders(files, to);
  const ctx = { session, uploads: session.client(UploadService), files, parts: new Limiter(parallel) };
  env.onInterrupt = () =>
    process.stderr.write("\ninterrupted: run the same command again to resume the upload\n");
  try {
    const singles = args.filter((_, i) => !isDir[i]);
    let code = singles.length > 0 ? await uploadFiles(env, ctx, singles, parent, to, options) : 0;
    const opts = {
      jobs,
      instant: !options["no-instant"],
      onConflict,
      excluded: excluder(listOption(options, "exclude")),
    };
    for (const dir of args.filter((_, i) => isDir[i])) {
      const done = await uploadFolder(ctx, dir, parent, to, opts, {
        line: env.out,
        json: options.json === true,
      });
      code = Math.max(code, done);
    }
    return code;
  } finally {
    env.onInterrupt = undefined;
  }
};

/** Where a download goes: the given path, inside it when it is a folder, else the file's name here. */
export function destinationFor(name: string, dest: string | undefined): string {
  const safe = safeLocalName(name);
  if (dest === undefined) return safe;
  if (dest.endsWith("/") || (existsSync(dest) && statSync(dest).isDirectory())) return join(dest, safe);
  return dest;
}

const download: Handler = async (env, args, options) => {
  const link = shareUrlParts(args[0] as string);
  if (link) return downloadShare(env, link, args[1], options);
  const parallel = intOption(options, "parallel", 4, 1, 64);
  const jobs = intOption(options, "jobs", 4, 1, 32);
  const session = new Session(env.server, env.store);
  const files = session.client(FileService);
  const ctx = { session, downloads: session.client(DownloadService), chunks: new Limiter(parallel) };
  if (typeof options.version === "string") {
    const file = await versionedFile(files, args[0] as string);
    const row = pickVersion(await versionRows(files, file), options.version, args[0] as string);
    // The version's content under the file's name; the state file tells contents apart by their hash.
    const content = create(FileSchema, { ...file, size: BigInt(row.size), sha256: row.sha256 });
    return downloadOne(env, ctx, content, args, options, row.id);
  }
  const target = await resolve(files, args[0] as string);
  if (options.zip === true) {
    if (!isFolder(target) || target.id === "")
      throw new UsageError(`--zip takes a folder (not the root): ${args[0]}`);
    const dest = destinationFor(`${target.name}.zip`, args[1]);
    const bytes = await downloadZip(ctx, target, dest);
    env.out(
      options.json === true
        ? JSON.stringify({ id: target.id, dest, bytes })
        : `downloaded ${args[0]} as a ZIP → ${dest} (${formatBytes(bytes)})`,
    );
    return 0;
  }
  if (isFolder(target)) {
    // The copy is dest itself (made or merged into, so that the same command run again resumes), or
    // dest/<name> when dest ends in "/", or ./<name>.
    const name = target.id === "" ? "." : safeLocalName(target.name);
    const dest = args[1] === undefined ? name : args[1].endsWith("/") ? join(args[1], name) : args[1];
    env.onInterrupt = () => process.stderr.write("\ninterrupted: run the same command again to resume\n");
    const opts = { jobs, force: options.force === true, excluded: excluder(listOption(options, "exclude")) };
    try {
      return await downloadFolder({ ...ctx, files }, target, args[0] as string, dest, opts, {
        line: env.out,
        json: options.json === true,
      });
    } finally {
      env.onInterrupt = undefined;
    }
  }
  return downloadOne(env, ctx, target, args, options);
};

async function downloadOne(
  env: Env,
  ctx: DownloadContext,
  file: File,
  args: string[],
  options: OptionValues,
  versionId = "",
) {
  const dest = destinationFor(file.name, args[1]);
  if (existsSync(dest) && !existsSync(statePath(dest)) && !options.force) {
    throw new UsageError(`${dest} exists: use --force to overwrite it`);
  }
  try {
    mkdirSync(dirname(dest), { recursive: true });
  } catch (err) {
    throw asLocal("create", dirname(dest), err);
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
    const r = await downloadFile(ctx, file, dest, bar, CHUNK_SIZE, versionId);
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
    throw asLocal("write", dest, err);
  } finally {
    env.onInterrupt = undefined;
  }
}

const JOBS = {
  type: "string",
  short: "j",
  value: "N",
  description: "files transferred at once (default 4)",
} as const;

const EXCLUDE = {
  type: "string",
  value: "glob",
  multiple: true,
  description: "leave out matching files and folders (repeatable): *.tmp by name, build/** by path",
} as const;

export const UPLOAD: Command = {
  name: "upload",
  usage: "<files or folders…>",
  summary: "upload files and folders (instant when the server has the content; resumable, parallel)",
  details: `A folder is recreated under --to (missing folders along --to are created too) with everything in
it; symbolic links inside it are not followed (they are skipped, and said so). Files already there with the
same name and content are skipped, so an interrupted folder upload finishes when run again; an interrupted
file resumes (only the missing parts are sent). Remote folders that exist are merged into. A name taken by
other content follows --on-conflict: fail (the default: that file is refused before its bytes are sent,
naming the taken path), rename (keep both: "name (2).ext"), replace (the file there gets the new content as
a new version: see filestore versions).
Progress goes to stderr (bars on a terminal, lines otherwise); to stdout a line per file, or for a folder a
summary: files and bytes uploaded, skipped, failed (exit code 1 when any failed). With --json, a file gives
{path,id,name,size,sha256,how,partCount,partsSent,partsSkipped,bytesSent} and a folder
{source,destination,files,bytes,skipped,failed,failures:[{path,error}]}.`,
  options: {
    to: { type: "string", short: "t", value: "folder", description: "remote folder (default /)" },
    jobs: JOBS,
    parallel: { ...PARALLEL, description: "parts in flight at once, over all files (default 4)" },
    exclude: EXCLUDE,
    "on-conflict": ON_CONFLICT,
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
  summary: "download a file or a folder (parallel ranges, resumable, SHA-256 verified)",
  details: `The bytes go to <dest>.filestore-part with a .json state beside it; run the same command again to
resume. A file goes to dest, or into dest when it is a folder or ends in /, or to ./<name>. A folder comes
down with everything in it as dest (made, or merged into when it exists), or as dest/<name> when dest ends
in /, or as ./<name>; running the same command again resumes it. Missing folders along dest are created.
Local files already identical are skipped, others of the same name are refused unless --force.
--version n fetches version n of a file (numbered as filestore versions lists them; 1 is the current).
--zip fetches a folder as one ZIP built by the server (to dest, or ./<name>.zip; not resumable).
With --json, a file gives {id,sha256,size,dest,bytesFetched,chunksSkipped,chunkCount} and a folder
{source,destination,files,bytes,skipped,failed,failures:[{path,error}]}.
<path> may be a share link (https://host/s/<id>): no sign-in needed; each file counts one download of the
link; the password comes from --password-stdin or is asked for.`,
  options: {
    jobs: JOBS,
    parallel: { ...PARALLEL, description: "byte ranges in flight at once, over all files (default 4)" },
    exclude: EXCLUDE,
    force: { type: "boolean", short: "f", description: "overwrite existing local files" },
    version: { type: "string", value: "n", description: "a file's earlier version (see filestore versions)" },
    zip: { type: "boolean", description: "a folder as one ZIP built by the server" },
    json: JSON_OUT,
    "password-stdin": { type: "boolean", description: "a share link's password, from stdin's first line" },
  },
  minArgs: 1,
  maxArgs: 2,
  run: download,
};
