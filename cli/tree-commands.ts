// The commands of `filestore` on the remote tree: ls, mkdir, rm, link (mv and cp: place-commands.ts).
import { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import { type File, FileService, SortField } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { intOption, type OptionValues, UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { entryJson } from "./json-output.ts";
import { formatBytes } from "./progress.ts";
import { isFolder, joinPath, listFolder, resolve, resolveFile, resolveFolder, splitPath } from "./remote.ts";
import { Session } from "./session.ts";

export const SORTS: Record<string, SortField> = {
  name: SortField.NAME,
  size: SortField.SIZE,
  time: SortField.UPDATED_AT,
};

/** The --sort given (by name when absent). */
export function sortOption(options: OptionValues): SortField {
  const sort = typeof options.sort === "string" ? SORTS[options.sort] : SortField.NAME;
  if (sort === undefined) throw new UsageError(`--sort is one of ${Object.keys(SORTS).join(", ")}`);
  return sort;
}

const when = (f: File) =>
  f.updatedAt
    ? new Date(Number(f.updatedAt.seconds) * 1000).toISOString().slice(0, 16).replace("T", " ")
    : "";

/** `ls -l` lines: kind, size, time, id, name — columns aligned. */
export function longListing(entries: File[]): string[] {
  const sizes = entries.map((f) => (isFolder(f) ? "-" : formatBytes(Number(f.size))));
  const w = Math.max(0, ...sizes.map((s) => s.length));
  return entries.map(
    (f, i) =>
      `${isFolder(f) ? "d" : "-"}  ${(sizes[i] as string).padStart(w)}  ${when(f)}  ${f.id}  ${f.name}${isFolder(f) ? "/" : ""}`,
  );
}

const ls: Handler = async (env, args, options) => {
  const files = new Session(env.server, env.store).client(FileService);
  const path = args[0] ?? "/";
  const sort = sortOption(options);
  const target = await resolve(files, path);
  const entries = isFolder(target)
    ? await listFolder(files, target.id, { sort, descending: options.reverse === true })
    : [target];
  if (options.json) {
    env.out(JSON.stringify(entries.map(entryJson)));
    return 0;
  }
  const lines = options.long
    ? longListing(entries)
    : entries.map((f) => `${f.name}${isFolder(f) ? "/" : ""}`);
  for (const line of lines) env.out(line);
  return 0;
};

const mkdir: Handler = async (env, args) => {
  const files = new Session(env.server, env.store).client(FileService);
  const parts = splitPath(args[0] as string);
  const name = parts.pop();
  if (!name) throw new UsageError("give the new folder's path, e.g. /photos/2024");
  const parent = await resolveFolder(files, joinPath(parts));
  const { folder } = await files.createFolder({ parentId: parent.id, name });
  env.out(`created ${joinPath([...parts, name])}/ (id ${folder?.id})`);
  return 0;
};

const rm: Handler = async (env, args) => {
  const files = new Session(env.server, env.store).client(FileService);
  for (const path of args) {
    const f = await resolve(files, path);
    if (!f.id) throw new UsageError("the root folder cannot be removed");
    await files.deleteFile({ id: f.id });
    env.out(`moved ${path} to the trash`);
  }
  return 0;
};

const link: Handler = async (env, args, options) => {
  const session = new Session(env.server, env.store);
  const f = await resolveFile(session.client(FileService), args[0] as string);
  const ttlSeconds = intOption(options, "ttl", 0, 1, 7 * 24 * 3600);
  const r = await session.client(DownloadService).createDownloadUrl({ fileId: f.id, ttlSeconds });
  env.out(session.url(r.url).href);
  if (r.expiresAt) {
    process.stderr.write(`valid until ${new Date(Number(r.expiresAt.seconds) * 1000).toISOString()}\n`);
  }
  return 0;
};

export const LS: Command = {
  name: "ls",
  usage: "[path]",
  summary: "list a folder (default /)",
  details: "Remote paths start at your root folder (/docs/a.pdf); id:<id> names an entry by its id.",
  options: {
    long: { type: "boolean", short: "l", description: "size, time and id of each entry" },
    sort: { type: "string", value: "name|size|time", description: "order (default name)" },
    reverse: { type: "boolean", short: "r", description: "reverse the order" },
    json: {
      type: "boolean",
      description: "one JSON array of {id,name,kind,size,sha256,parentId,createdAt,updatedAt}",
    },
  },
  minArgs: 0,
  maxArgs: 1,
  run: ls,
};

export const MKDIR: Command = {
  name: "mkdir",
  usage: "<path>",
  summary: "create a folder",
  options: {},
  minArgs: 1,
  maxArgs: 1,
  run: mkdir,
};

export const RM: Command = {
  name: "rm",
  usage: "<paths…>",
  summary: "move files or folders to the trash",
  options: {},
  minArgs: 1,
  maxArgs: Number.POSITIVE_INFINITY,
  run: rm,
};

export const LINK: Command = {
  name: "link",
  usage: "<path>",
  summary: "print a signed download URL (no login needed to use it)",
  options: { ttl: { type: "string", value: "seconds", description: "lifetime (default: the server's)" } },
  minArgs: 1,
  maxArgs: 1,
  run: link,
};
