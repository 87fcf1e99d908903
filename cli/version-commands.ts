// `filestore versions PATH [restore N]`: a file's contents over time, through ListVersions and
// RestoreVersion. They are numbered newest first and 1 is the current content, so `restore 2` puts back
// the content the file had before (and running it again undoes that).
import { Code, ConnectError } from "@connectrpc/connect";
import { type File, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { isoTime } from "./json-output.ts";
import { formatBytes } from "./progress.ts";
import { type Files, isFolder, resolve } from "./remote.ts";
import { Session } from "./session.ts";

export interface VersionRow {
  number: number;
  /** The version's id; "" for the current content. */
  id: string;
  current: boolean;
  size: number;
  sha256: string;
  /** When it became the file's content. */
  modifiedAt: string | null;
  /** When it stopped being it (null for the current content). */
  archivedAt: string | null;
}

/** The file `path` names; a folder is refused (only files have versions). */
export async function versionedFile(files: Files, path: string): Promise<File> {
  const f = await resolve(files, path);
  if (isFolder(f)) {
    throw new ConnectError(`${path} is a folder: only files have versions`, Code.FailedPrecondition);
  }
  return f;
}

/** The current content (number 1) and the earlier ones, newest first. */
export async function versionRows(files: Files, file: File): Promise<VersionRow[]> {
  const { versions } = await files.listVersions({ fileId: file.id });
  const current: VersionRow = {
    number: 1,
    id: "",
    current: true,
    size: Number(file.size),
    sha256: file.sha256,
    modifiedAt: isoTime(file.updatedAt),
    archivedAt: null,
  };
  return [
    current,
    ...versions.map((v, i) => ({
      number: i + 2,
      id: v.id,
      current: false,
      size: Number(v.size),
      sha256: v.sha256,
      modifiedAt: isoTime(v.createdAt),
      archivedAt: isoTime(v.archivedAt),
    })),
  ];
}

/** Row `n` (as given on the command line) of `path`'s versions: NotFound naming the range otherwise. */
export function pickVersion(rows: VersionRow[], n: string, path: string): VersionRow {
  const row = /^[0-9]+$/.test(n) ? rows[Number(n) - 1] : undefined;
  if (row) return row;
  throw new ConnectError(
    `no version ${n} of ${path}: it has ${rows.length === 1 ? "only 1, the current content" : `1 (current) to ${rows.length}`} (see filestore versions ${path})`,
    Code.NotFound,
  );
}

const shortTime = (iso: string | null) => (iso ?? "").slice(0, 19).replace("T", " ");

function table(rows: VersionRow[]): string[] {
  const sizes = rows.map((r) => formatBytes(r.size));
  const w = Math.max(...sizes.map((s) => s.length));
  const n = String(rows.length).length;
  const idWidth = Math.max(...rows.map((r) => r.id.length), 1);
  return rows.map(
    (r, i) =>
      `${r.current ? "*" : " "} ${String(r.number).padStart(n)}  ${(r.id || "-").padEnd(idWidth)}  ${(sizes[i] as string).padStart(w)}  ${shortTime(r.modifiedAt)}${r.current ? "  current" : ""}`,
  );
}

const versions: Handler = async (env, args, options) => {
  const [path, action, n] = args as [string, string | undefined, string | undefined];
  if (action !== undefined && (action !== "restore" || n === undefined)) {
    throw new UsageError("usage: filestore versions <path> [restore <n>]", "versions");
  }
  const files = new Session(env.server, env.store).client(FileService);
  const file = await versionedFile(files, path);
  const rows = await versionRows(files, file);
  if (action === undefined) {
    if (options.json) env.out(JSON.stringify(rows));
    else for (const line of table(rows)) env.out(line);
    return 0;
  }
  const row = pickVersion(rows, n as string, path);
  if (row.current) throw new UsageError(`version 1 is the current content of ${path} already`, "versions");
  await files.restoreVersion({ fileId: file.id, versionId: row.id });
  env.out(
    `restored version ${row.number} of ${path} (${formatBytes(row.size)}, from ${shortTime(row.modifiedAt)}); the content it replaced is now version 2`,
  );
  return 0;
};

export const VERSIONS: Command = {
  name: "versions",
  usage: "<path> [restore <n>]",
  summary: "list a file's versions, or make an earlier one current again",
  details: `Versions are numbered newest first: 1 (marked *) is the current content, 2 the one before, and so
on; uploading with --on-conflict replace adds one. restore <n> makes version n the content again (the
current one becomes version 2, so restore 2 again undoes it). download <path> --version <n> fetches one.
With --json, one JSON array of {number,id,current,size,sha256,modifiedAt,archivedAt} (id "" for the
current content).`,
  options: { json: { type: "boolean", description: "print the list as JSON (fields above)" } },
  minArgs: 1,
  maxArgs: 3,
  run: versions,
};
