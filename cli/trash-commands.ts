// `filestore trash ls|restore|purge`: the trash, through ListTrash, RestoreFile and PurgeFile. An entry of
// the trash is named by the path it had (`/docs/a.pdf`) or by its id (`id:<id>`, or the bare id).
import { Code, ConnectError } from "@connectrpc/connect";
import { type File, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { entryJson, isoTime } from "./json-output.ts";
import { formatBytes } from "./progress.ts";
import { type Files, isFolder, joinPath, splitPath } from "./remote.ts";
import { Session } from "./session.ts";

/** Every entry of the trash (most recently deleted first), page by page. */
async function listTrash(files: Files): Promise<File[]> {
  const out: File[] = [];
  let pageToken = "";
  do {
    const page = await files.listTrash({ pageSize: 1000, pageToken });
    out.push(...page.files);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

/** The path an entry had: its folders' names up to the root (folders in the trash still answer GetFile). */
async function originalPaths(files: Files, entries: File[]): Promise<string[]> {
  const folders = new Map<string, Promise<string>>([["", Promise.resolve("")]]);
  const folderPath = (id: string): Promise<string> => {
    let p = folders.get(id);
    if (!p) {
      p = files.getFile({ id }).then(
        async ({ file }) => (file ? `${await folderPath(file.parentId)}/${file.name}` : "/?"),
        (err) => {
          if (ConnectError.from(err).code === Code.NotFound) return "/?";
          throw err;
        },
      );
      folders.set(id, p);
    }
    return p;
  };
  return Promise.all(entries.map(async (f) => `${await folderPath(f.parentId)}/${f.name}`));
}

/** The trash entry `what` names: `id:<id>`, a bare id, or the path it had (several: name one by id). */
async function findInTrash(files: Files, what: string): Promise<File> {
  const entries = await listTrash(files);
  const id = what.startsWith("id:") ? what.slice(3) : undefined;
  if (id !== undefined) {
    const byId = entries.find((f) => f.id === id);
    if (!byId) throw new ConnectError(`not in the trash: ${what}`, Code.NotFound);
    return byId;
  }
  const wanted = joinPath(splitPath(what).map((n) => n.normalize("NFC")));
  const paths = await originalPaths(files, entries);
  const found = entries.filter((_, i) => paths[i] === wanted);
  if (found.length === 1) return found[0] as File;
  if (found.length > 1) {
    throw new ConnectError(
      `the trash holds several ${wanted}: name one by id (${found.map((f) => `id:${f.id}`).join(", ")})`,
      Code.FailedPrecondition,
    );
  }
  const bare = entries.find((f) => f.id === what);
  if (bare) return bare;
  throw new ConnectError(`not in the trash: ${what} (see filestore trash ls)`, Code.NotFound);
}

const when = (f: File) => (isoTime(f.deletedAt) ?? "").slice(0, 16).replace("T", " ");

async function ls(env: Parameters<Handler>[0], files: Files, json: boolean): Promise<number> {
  const entries = await listTrash(files);
  const paths = await originalPaths(files, entries);
  if (json) {
    const items = entries.map((f, i) => ({
      ...entryJson(f),
      deletedAt: isoTime(f.deletedAt),
      path: paths[i],
    }));
    env.out(JSON.stringify(items));
    return 0;
  }
  const sizes = entries.map((f) => (isFolder(f) ? "-" : formatBytes(Number(f.size))));
  const w = Math.max(0, ...sizes.map((s) => s.length));
  entries.forEach((f, i) => {
    env.out(`${(sizes[i] as string).padStart(w)}  ${when(f)}  ${f.id}  ${paths[i]}${isFolder(f) ? "/" : ""}`);
  });
  return 0;
}

/** The subcommands; `empty` joins them once the server offers EmptyTrash. */
const ACTIONS: Record<string, { args: number; usage: string }> = {
  ls: { args: 0, usage: "trash ls [--json]" },
  restore: { args: 1, usage: "trash restore <path|id>" },
  purge: { args: 1, usage: "trash purge <path|id>" },
};

const trash: Handler = async (env, args, options) => {
  const [action = "", target] = args;
  const spec = ACTIONS[action];
  if (!spec) throw new UsageError(`trash takes ${Object.keys(ACTIONS).join(", ")}, not "${action}"`, "trash");
  if (args.length - 1 !== spec.args) throw new UsageError(`usage: filestore ${spec.usage}`, "trash");
  const files = new Session(env.server, env.store).client(FileService);
  if (action === "ls") return ls(env, files, options.json === true);
  const entry = await findInTrash(files, target as string);
  if (action === "restore") {
    const { file } = await files.restoreFile({ id: entry.id });
    const [path] = file ? await originalPaths(files, [file]) : [];
    env.out(`restored ${target} → ${path ?? "?"}${file && isFolder(file) ? "/" : ""}`);
    return 0;
  }
  await files.purgeFile({ id: entry.id });
  env.out(`purged ${target} for good`);
  return 0;
};

export const TRASH: Command = {
  name: "trash",
  usage: "ls | restore <path|id> | purge <path|id>",
  summary: "list the trash, restore an entry from it, or delete one for good",
  details: `An entry of the trash is named by the path it had (/docs/a.pdf) or by its id (id:<id>, or the bare
id from trash ls). A restored entry goes back to its folder (to / when that folder is gone). With --json,
trash ls prints one JSON array of {id,name,kind,size,sha256,parentId,createdAt,updatedAt,deletedAt,path}.`,
  options: { json: { type: "boolean", description: "trash ls as JSON (fields above)" } },
  minArgs: 1,
  maxArgs: 2,
  run: trash,
};
