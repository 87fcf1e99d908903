// The commands of `filestore` that put an entry somewhere: mv (MoveFile, RenameFile) and cp (CopyFile), both
// with --on-conflict for when the destination folder already holds the name.
import { Code, ConnectError } from "@connectrpc/connect";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import {
  ConflictPolicy,
  conflictOption,
  isNameTaken,
  NameTaken,
  nameTakenAt,
  ON_CONFLICT,
  within,
} from "./conflict.ts";
import {
  type Files,
  isFolder,
  joinPath,
  resolve,
  resolveFolder,
  splitPath,
  withSideFolder,
} from "./remote.ts";
import { Session } from "./session.ts";

/** Where `to` puts an entry: `name` in `parent` (shown as `folderPath`); no name = keep the entry's own. */
interface Destination {
  parent: File;
  folderPath: string;
  name?: string;
}

/** `to` is an existing folder (or ends in "/", or is id:<id>): into it; otherwise a new name in its folder. */
async function destinationOf(files: Files, to: string): Promise<Destination> {
  if (to.endsWith("/") || to.startsWith("id:")) {
    return { parent: await resolveFolder(files, to), folderPath: to.replace(/\/+$/, "") || "/" };
  }
  const existing = await resolve(files, to, true).then(
    (f) => (isFolder(f) ? f : undefined),
    (err) => {
      if (ConnectError.from(err).code === Code.NotFound) return undefined;
      throw err;
    },
  );
  const parts = splitPath(to);
  if (existing) return { parent: existing, folderPath: joinPath(parts) };
  const name = parts.pop();
  if (!name) throw new UsageError("give a destination path");
  const folderPath = joinPath(parts);
  return { parent: await resolveFolder(files, folderPath), folderPath, name: name.normalize("NFC") };
}

/** Throws when `f` is the root folder, which stays where it is. */
function notRoot(f: File, verb: string): File {
  if (!f.id) throw new UsageError(`the root folder cannot be ${verb}`);
  return f;
}

/**
 * A rename within the entry's own folder. RenameFile never goes past a taken name; under "rename" or
 * "replace" the entry goes out to a folder of its own, takes the new name there, and comes back under the
 * policy (MoveFile applies it). Should it fail to come back, it goes back as it was.
 */
async function renameInPlace(files: Files, src: File, name: string, policy: ConflictPolicy, shown: string) {
  try {
    return (await files.renameFile({ id: src.id, name })).file;
  } catch (err) {
    if (!isNameTaken(err)) throw err;
    if (policy === ConflictPolicy.FAIL) throw new NameTaken(shown);
  }
  let away = false;
  return withSideFolder(
    files,
    `mv-${src.id}`,
    async (side) => {
      await files.moveFile({ id: src.id, newParentId: side.id });
      away = true;
      try {
        await files.renameFile({ id: src.id, name });
        const { file } = await files.moveFile({ id: src.id, newParentId: src.parentId, onConflict: policy });
        away = false;
        return file;
      } catch (err) {
        await files.renameFile({ id: src.id, name: src.name }).catch(() => {});
        away = !(await files.moveFile({ id: src.id, newParentId: src.parentId }).then(
          () => true,
          () => false,
        ));
        const failure = nameTakenAt(err, shown, policy);
        if (!away) throw failure;
        const why = failure instanceof Error ? failure.message : String(failure);
        throw new Error(`${why} (the entry is left in /${side.name}: move it back with filestore mv)`);
      }
    },
    () => away,
  );
}

/** Into another folder, under `name`: renamed first where it is, then moved with the policy. */
async function moveAcross(files: Files, src: File, dest: Destination, name: string, policy: ConflictPolicy) {
  if (name !== src.name) {
    await files.renameFile({ id: src.id, name }).catch((err) => {
      if (!isNameTaken(err)) throw err;
      throw new ConnectError(
        `cannot rename it to "${name}" on its way: its folder already holds that name (move it, then rename it)`,
        Code.AlreadyExists,
      );
    });
  }
  try {
    return (await files.moveFile({ id: src.id, newParentId: dest.parent.id, onConflict: policy })).file;
  } catch (err) {
    // Nothing half-done: it gets its name back where it was.
    if (name !== src.name) await files.renameFile({ id: src.id, name: src.name }).catch(() => {});
    throw nameTakenAt(err, within(dest.folderPath, name), policy);
  }
}

const mv: Handler = async (env, args, options) => {
  const policy = conflictOption(options);
  const files = new Session(env.server, env.store).client(FileService);
  const [from, to] = args as [string, string];
  const src = notRoot(await resolve(files, from), "moved");
  const dest = await destinationOf(files, to);
  const name = dest.name ?? src.name;
  const moved =
    dest.parent.id === src.parentId
      ? name === src.name
        ? src
        : await renameInPlace(files, src, name, policy, within(dest.folderPath, name))
      : await moveAcross(files, src, dest, name, policy);
  env.out(`${from} → ${within(dest.folderPath, moved?.name ?? name)}`);
  return 0;
};

const cp: Handler = async (env, args, options) => {
  const onConflict = conflictOption(options);
  const files = new Session(env.server, env.store).client(FileService);
  const [from, to] = args as [string, string];
  const src = notRoot(await resolve(files, from), "copied");
  const dest = await destinationOf(files, to);
  const name = dest.name ?? src.name;
  const { file } = await files
    .copyFile({ id: src.id, newParentId: dest.parent.id, name, onConflict })
    .catch((err) => {
      throw nameTakenAt(err, within(dest.folderPath, name), onConflict);
    });
  const path = within(dest.folderPath, file?.name ?? name);
  env.out(`copied ${from} → ${path}${isFolder(src) ? "/" : ""} (id ${file?.id})`);
  return 0;
};

const PLACEMENT = `DEST is an existing folder (or ends in /): into it, under the same name; otherwise the new path (its
folder must exist). When that folder already holds the name: --on-conflict.`;

export const MV: Command = {
  name: "mv",
  usage: "<path> <dest>",
  summary: "rename or move a file or folder (into dest when it is a folder)",
  details: `${PLACEMENT} With replace, the file there gets the moved one's content as a new version
(a folder is never replaced).`,
  options: { "on-conflict": ON_CONFLICT },
  minArgs: 2,
  maxArgs: 2,
  run: mv,
};

export const CP: Command = {
  name: "cp",
  usage: "<path> <dest>",
  summary: "copy a file or a folder with everything in it (the server shares the content: no bytes move)",
  details: `${PLACEMENT} (replace: a file copied onto a file becomes its new version; folders are never replaced.)`,
  options: { "on-conflict": ON_CONFLICT },
  minArgs: 2,
  maxArgs: 2,
  run: cp,
};
