// The commands of `filestore`: their specs (which drive parsing and --help) and what they do.
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import { type File, FileService, SortField } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import { type CommandSpec, intOption, type OptionValues, UsageError } from "./args.ts";
import type { CredentialStore } from "./credentials.ts";
import { downloadFile, partialPath, statePath } from "./download.ts";
import { describe } from "./errors.ts";
import { Limiter } from "./pool.ts";
import { formatBytes, Progress } from "./progress.ts";
import { askLine, askPassword, passwordFromStdin } from "./prompt.ts";
import { isFolder, joinPath, listFolder, resolve, resolveFile, resolveFolder, splitPath } from "./remote.ts";
import { credentialsFrom, Session } from "./session.ts";
import { uploadFile } from "./upload.ts";

export interface Env {
  server: string;
  store: CredentialStore;
  out: (line: string) => void;
  /** Set while a resumable transfer runs: what to tell the user if it is interrupted. */
  onInterrupt?: () => void;
}

type Handler = (env: Env, args: string[], options: OptionValues) => Promise<number | undefined>;

const PARALLEL = {
  type: "string",
  short: "p",
  value: "N",
  description: "transfers in flight at once (default 4)",
} as const;

const JSON_OUT = { type: "boolean", description: "print the result as one JSON object per file" } as const;

const passwordStdin = {
  "password-stdin": { type: "boolean", description: "read the password from stdin (first line)" },
} as const;

export const EXIT_CODES = `Exit codes: 0 success, 1 failure, 2 bad usage, 3 not signed in / session ended, 4 not found,
130 interrupted (run the same upload or download again to resume).`;

async function credentialsPrompt(args: string[], options: OptionValues, confirm: boolean) {
  const username = args[0] ?? (await askLine("Username: "));
  if (!username) throw new UsageError("a username is required");
  if (options["password-stdin"]) {
    const password = await passwordFromStdin();
    if (!password) throw new UsageError("stdin held no password");
    return { username, password };
  }
  const password = await askPassword("Password: ");
  if (confirm && (await askPassword("Password (again): ")) !== password) {
    throw new UsageError("the passwords do not match");
  }
  return { username, password };
}

async function signIn(env: Env, username: string, password: string): Promise<void> {
  const session = new Session(env.server, env.store);
  const { user, tokens } = await session.accounts.signin({ username, password });
  env.store.set(
    env.server,
    credentialsFrom(tokens, { id: user?.id ?? "", username: user?.username ?? username }),
  );
  env.out(`signed in to ${env.server} as ${user?.username ?? username}`);
}

const login: Handler = async (env, args, options) => {
  const { username, password } = await credentialsPrompt(args, options, false);
  await signIn(env, username, password);
  return 0;
};

const signup: Handler = async (env, args, options) => {
  const { username, password } = await credentialsPrompt(args, options, true);
  await new Session(env.server, env.store).accounts.signup({ username, password });
  await signIn(env, username, password);
  return 0;
};

const logout: Handler = async (env) => {
  const creds = env.store.get(env.server);
  if (!creds) {
    env.out(`not signed in to ${env.server}`);
    return 0;
  }
  // Forget locally whatever the server says: the user asked to be signed out here.
  env.store.set(env.server, undefined);
  try {
    await new Session(env.server, env.store).accounts.signout({ refreshToken: creds.refreshToken });
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code !== Code.Unauthenticated) {
      process.stderr.write(
        `filestore: removed the local credentials, but the server did not revoke them: ${e.rawMessage}\n`,
      );
      return 1;
    }
  }
  env.out(`signed out of ${env.server}`);
  return 0;
};

const whoami: Handler = async (env) => {
  const session = new Session(env.server, env.store);
  const { user } = await session.client(AccountService).getUserInfo({});
  env.out(`${user?.username} (id ${user?.id}) on ${env.server}`);
  return 0;
};

const SORTS: Record<string, SortField> = {
  name: SortField.NAME,
  size: SortField.SIZE,
  time: SortField.UPDATED_AT,
};

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
  const sort = typeof options.sort === "string" ? SORTS[options.sort] : SortField.NAME;
  if (sort === undefined) throw new UsageError(`--sort is one of ${Object.keys(SORTS).join(", ")}`);
  const target = await resolve(files, path);
  const entries = isFolder(target)
    ? await listFolder(files, target.id, { sort, descending: options.reverse === true })
    : [target];
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

const mv: Handler = async (env, args) => {
  const files = new Session(env.server, env.store).client(FileService);
  const [from, to] = args as [string, string];
  const src = await resolve(files, from);
  // Into an existing folder (or a path ending in "/"), else to a new name (and maybe another folder).
  let into: File | undefined;
  if (to.endsWith("/") || to.startsWith("id:")) into = await resolveFolder(files, to);
  else {
    into = await resolve(files, to, true).then(
      (f) => (isFolder(f) ? f : undefined),
      (err) => {
        if (ConnectError.from(err).code === Code.NotFound) return undefined;
        throw err;
      },
    );
  }
  const parts = splitPath(to.startsWith("id:") ? "" : to);
  const parent = into ?? (await resolveFolder(files, joinPath(parts.slice(0, -1))));
  const name = into ? src.name : (parts[parts.length - 1] as string);
  if (!name) throw new UsageError("give a destination path");
  if (parent.id !== src.parentId) await files.moveFile({ id: src.id, newParentId: parent.id });
  if (name !== src.name) await files.renameFile({ id: src.id, name });
  env.out(`${from} → ${into ? `${to.replace(/\/?$/, "/")}${name}` : to}`);
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

export const COMMANDS: (CommandSpec & { run: Handler })[] = [
  {
    name: "signup",
    usage: "[username]",
    summary: "create an account, then sign in",
    options: passwordStdin,
    minArgs: 0,
    maxArgs: 1,
    run: signup,
  },
  {
    name: "login",
    usage: "[username]",
    summary: "sign in; the tokens are kept in ~/.config/filestore/credentials.json (mode 0600)",
    details:
      'Asks for the password without echoing it, or reads it from stdin:\n  echo "$PASSWORD" | filestore login alice --password-stdin',
    options: passwordStdin,
    minArgs: 0,
    maxArgs: 1,
    run: login,
  },
  {
    name: "logout",
    usage: "",
    summary: "sign out (revokes the session on the server)",
    options: {},
    minArgs: 0,
    maxArgs: 0,
    run: logout,
  },
  {
    name: "whoami",
    usage: "",
    summary: "show who is signed in",
    options: {},
    minArgs: 0,
    maxArgs: 0,
    run: whoami,
  },
  {
    name: "ls",
    usage: "[path]",
    summary: "list a folder (default /)",
    details: "Remote paths start at your root folder (/docs/a.pdf); id:<id> names an entry by its id.",
    options: {
      long: { type: "boolean", short: "l", description: "size, time and id of each entry" },
      sort: { type: "string", value: "name|size|time", description: "order (default name)" },
      reverse: { type: "boolean", short: "r", description: "reverse the order" },
    },
    minArgs: 0,
    maxArgs: 1,
    run: ls,
  },
  {
    name: "mkdir",
    usage: "<path>",
    summary: "create a folder",
    options: {},
    minArgs: 1,
    maxArgs: 1,
    run: mkdir,
  },
  {
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
  },
  {
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
  },
  {
    name: "mv",
    usage: "<path> <dest>",
    summary: "rename or move a file or folder (into dest when it is a folder)",
    options: {},
    minArgs: 2,
    maxArgs: 2,
    run: mv,
  },
  {
    name: "rm",
    usage: "<paths…>",
    summary: "move files or folders to the trash",
    options: {},
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
    run: rm,
  },
  {
    name: "link",
    usage: "<path>",
    summary: "print a signed download URL (no login needed to use it)",
    options: { ttl: { type: "string", value: "seconds", description: "lifetime (default: the server's)" } },
    minArgs: 1,
    maxArgs: 1,
    run: link,
  },
];
