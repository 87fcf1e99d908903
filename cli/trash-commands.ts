// `filestore trash ls|restore|purge|empty`: the trash, through ListTrash, RestoreFile, PurgeFile and
// EmptyTrash. An entry of the trash is named by the path it had (`/docs/a.pdf`) or by its id (`id:<id>`,
// or the bare id).
import { Code, ConnectError } from "@connectrpc/connect";
import { type File, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { conflictOption, isNameTaken, NameTaken, ON_CONFLICT } from "./conflict.ts";
import { entryJson, isoTime } from "./json-output.ts";
import { formatBytes } from "./progress.ts";
import { confirm } from "./prompt.ts";
import { type Files, isFolder, joinPath, pathsOf, splitPath } from "./remote.ts";
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
  const paths = await pathsOf(files, entries);
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
  const paths = await pathsOf(files, entries);
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

/** Everything in the trash, for good: after a yes on the terminal, or --yes. */
async function empty(env: Parameters<Handler>[0], files: Files, yes: boolean): Promise<number> {
  const count = (await files.listTrash({ pageSize: 1000 })).files.length;
  if (count === 0) {
    env.out("the trash is already empty");
    return 0;
  }
  const what = `${count === 1000 ? "1000 or more" : count} entr${count === 1 ? "y" : "ies"}`;
  if (!yes) {
    const go = await confirm(
      `Delete the ${what} of the trash (with everything in them) for good?`,
      `trash empty deletes the ${what} of the trash for good: confirm with --yes (no terminal to ask on)`,
    );
    if (!go) {
      env.out("the trash is left as it was");
      return 1;
    }
  }
  const r = await files.emptyTrash({});
  env.out(`emptied the trash: ${r.count} entr${r.count === 1 ? "y" : "ies"} deleted for good`);
  return 0;
}

const ACTIONS: Record<string, { args: number; usage: string }> = {
  ls: { args: 0, usage: "trash ls [--json]" },
  restore: { args: 1, usage: "trash restore <path|id> [--on-conflict fail|rename|replace]" },
  purge: { args: 1, usage: "trash purge <path|id>" },
  empty: { args: 0, usage: "trash empty [--yes]" },
};

const trash: Handler = async (env, args, options) => {
  const [action = "", target] = args;
  const spec = ACTIONS[action];
  if (!spec) throw new UsageError(`trash takes ${Object.keys(ACTIONS).join(", ")}, not "${action}"`, "trash");
  if (args.length - 1 !== spec.args) throw new UsageError(`usage: filestore ${spec.usage}`, "trash");
  const files = new Session(env.server, env.store).client(FileService);
  if (action === "ls") return ls(env, files, options.json === true);
  if (action === "empty") return empty(env, files, options.yes === true);
  const onConflict = conflictOption(options);
  const entry = await findInTrash(files, target as string);
  if (action === "restore") {
    const { file } = await files.restoreFile({ id: entry.id, onConflict }).catch(async (err) => {
      if (!isNameTaken(err)) throw err;
      const [path] = await pathsOf(files, [entry]);
      throw new NameTaken(path ?? entry.name, onConflict);
    });
    const [path] = file ? await pathsOf(files, [file]) : [];
    env.out(`restored ${target} → ${path ?? "?"}${file && isFolder(file) ? "/" : ""}`);
    return 0;
  }
  await files.purgeFile({ id: entry.id });
  env.out(`purged ${target} for good`);
  return 0;
};

export const TRASH: Command = {
  name: "trash",
  usage: "ls | restore <path|id> | purge <path|id> | empty",
  summary: "list the trash, restore an entry from it, delete one for good, or empty it",
  details: `An entry of the trash is named by the path it had (/docs/a.pdf) or by its id (id:<id>, or the bare
id from trash ls). A restored entry goes back to its folder (to / when that folder is gone); when that
folder holds the name again, --on-conflict decides. trash empty deletes everything in the trash for good
(asking first on a terminal; --yes to skip the question, required without a terminal). With --json,
trash ls prints one JSON array of {id,name,kind,size,sha256,parentId,createdAt,updatedAt,deletedAt,path}.`,
  options: {
    json: { type: "boolean", description: "trash ls as JSON (fields above)" },
    "on-conflict": ON_CONFLICT,
    yes: { type: "boolean", short: "y", description: "trash empty without asking" },
  },
  minArgs: 1,
  maxArgs: 2,
  run: trash,
};
