// Remote paths: "/docs/report.pdf" (or "docs/report.pdf": every path starts at the root) walks the user's
// folders through FileService; "id:<id>" names an entry directly (names need not be unique).
import { create } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type File,
  FileKind,
  FileSchema,
  type FileService,
  type SortField,
} from "../proto/gen/filestore/file/v1/file_pb.ts";

export type Files = Client<typeof FileService>;

export const ROOT: File = create(FileSchema, { id: "", name: "", kind: FileKind.FOLDER });

export const isFolder = (f: File) => f.kind === FileKind.FOLDER;

/** The names along a path; "." segments and empty ones (from "//") drop out, ".." is refused. */
export function splitPath(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes(".."))
    throw new ConnectError(`".." is not supported in remote paths: ${path}`, Code.InvalidArgument);
  return parts;
}

/** "/a/b" for display. */
export const joinPath = (parts: string[]) => `/${parts.join("/")}`;

/** Every entry of a folder, page by page. */
export async function listFolder(
  files: Files,
  parentId: string,
  order: { sort?: SortField; descending?: boolean } = {},
): Promise<File[]> {
  const out: File[] = [];
  let pageToken = "";
  do {
    const page = await files.listFiles({ parentId, pageSize: 1000, pageToken, ...order });
    out.push(...page.files);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

function pick(found: File[], name: string, where: string, wantFolder: boolean): File {
  const folders = found.filter(isFolder);
  if (found.length === 1) return found[0] as File;
  if (wantFolder && folders.length === 1) return folders[0] as File;
  throw new ConnectError(
    `several entries are named "${name}" in ${where}: name one by id (${found.map((f) => `id:${f.id}`).join(", ")})`,
    Code.FailedPrecondition,
  );
}

/** The entry a path names; NotFound with the path when it does not exist. */
export async function resolve(files: Files, path: string, wantFolder = false): Promise<File> {
  if (path.startsWith("id:")) {
    const { file } = await files.getFile({ id: path.slice(3) });
    if (!file) throw new ConnectError(`no such file or folder: ${path}`, Code.NotFound);
    return file;
  }
  const parts = splitPath(path);
  let here = ROOT;
  for (let i = 0; i < parts.length; i++) {
    const name = (parts[i] as string).normalize("NFC");
    const last = i === parts.length - 1;
    const found = (await listFolder(files, here.id)).filter(
      (f) => f.name === name && (!last ? isFolder(f) : true),
    );
    const where = joinPath(parts.slice(0, i));
    if (found.length === 0) {
      throw new ConnectError(`no such file or folder: ${joinPath(parts.slice(0, i + 1))}`, Code.NotFound);
    }
    here = pick(found, name, where, wantFolder || !last);
  }
  return here;
}

export async function resolveFolder(files: Files, path: string): Promise<File> {
  const f = await resolve(files, path, true);
  if (!isFolder(f)) throw new ConnectError(`not a folder: ${path}`, Code.FailedPrecondition);
  return f;
}

export async function resolveFile(files: Files, path: string): Promise<File> {
  const f = await resolve(files, path);
  if (isFolder(f)) throw new ConnectError(`${path} is a folder, not a file`, Code.FailedPrecondition);
  return f;
}

/**
 * The folder `name` inside `parent`, created when missing. `listing` is the parent's entries when the
 * caller already has them. One created meanwhile by someone else (AlreadyExists) is looked up again.
 */
export async function ensureFolder(
  files: Files,
  parent: File,
  name: string,
  listing?: File[],
): Promise<File> {
  const find = (entries: File[]) => entries.find((f) => f.name === name && isFolder(f));
  const existing = find(listing ?? (await listFolder(files, parent.id)));
  if (existing) return existing;
  try {
    const { folder } = await files.createFolder({ parentId: parent.id, name });
    if (!folder) throw new ConnectError("the server created a folder without answering it", Code.Internal);
    return folder;
  } catch (err) {
    const again =
      ConnectError.from(err).code === Code.AlreadyExists && find(await listFolder(files, parent.id));
    if (again) return again;
    throw err;
  }
}

/** The folder a path names, with every missing folder along it created (`mkdir -p`); id:<id> must exist. */
export async function makeFolders(files: Files, path: string): Promise<File> {
  if (path.startsWith("id:")) return resolveFolder(files, path);
  let here = ROOT;
  for (const name of splitPath(path)) here = await ensureFolder(files, here, name.normalize("NFC"));
  return here;
}

/**
 * Each entry's full path: its folders' names up to the root, each folder looked up once (GetFile answers
 * for folders in the trash too, so a trash entry gets the path it had). "/?" stands for a folder gone.
 */
export async function pathsOf(files: Files, entries: File[]): Promise<string[]> {
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

/** Deletes an entry for good (to the trash, then out of it). */
export async function removeForGood(files: Files, id: string): Promise<void> {
  await files.deleteFile({ id });
  await files.purgeFile({ id });
}

/**
 * Runs `work` with a folder of its own at the root, named `.filestore-<key>`: the server applies a conflict
 * policy only when an entry arrives in a folder (MoveFile), so placing an entry under a policy in its own
 * folder goes through this one. The folder is deleted for good afterwards (best effort: its name says what
 * it is), unless `work` left something in it (`keep()` says so): then it stays, with that.
 */
export async function withSideFolder<T>(
  files: Files,
  key: string,
  work: (side: File) => Promise<T>,
  keep: () => boolean = () => false,
): Promise<T> {
  const side = await ensureFolder(files, ROOT, `.filestore-${key}`);
  try {
    return await work(side);
  } finally {
    if (!keep()) await removeForGood(files, side.id).catch(() => {});
  }
}
