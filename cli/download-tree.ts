// `filestore download FOLDER`: the remote tree is listed (a level at a time), its folders are made here
// (mkdir -p), then its files are downloaded a few at a time, each exactly as a single download (ranged,
// resumable, SHA-256 verified: download.ts). A local file with the same size and SHA-256 is skipped; one
// with other content is refused unless --force.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { type DownloadContext, downloadFile, statePath } from "./download.ts";
import { asLocal } from "./local-errors.ts";
import { safeLocalName } from "./local-tree.ts";
import { Limiter } from "./pool.ts";
import { type Files, isFolder, listFolder } from "./remote.ts";
import { TreeRun } from "./tree-transfer.ts";
import { sha256File } from "./upload.ts";

export interface FolderDownloadOptions {
  jobs: number;
  force: boolean;
  excluded: (rel: string) => boolean;
}

interface RemoteTree {
  dirs: string[];
  files: { rel: string; size: number; file: File }[];
  skipped: string[];
  /** Two entries that would land on the same local path (same name, or names equal once made safe). */
  clashes: string[];
}

/** Everything below `top`, relative paths made of local-safe names. */
export async function walkRemote(
  files: Files,
  top: File,
  excluded: (rel: string) => boolean,
  jobs: number,
): Promise<RemoteTree> {
  const tree: RemoteTree = { dirs: [], files: [], skipped: [], clashes: [] };
  const seen = new Set<string>();
  const slots = new Limiter(jobs);
  let level = [{ folder: top, rel: "" }];
  while (level.length > 0) {
    const listings = await Promise.all(level.map((d) => slots.run(() => listFolder(files, d.folder.id))));
    const next: typeof level = [];
    level.forEach((d, i) => {
      for (const f of listings[i] ?? []) {
        const rel = `${d.rel ? `${d.rel}/` : ""}${safeLocalName(f.name)}`;
        if (excluded(rel)) tree.skipped.push(rel);
        else if (seen.has(rel)) tree.clashes.push(rel);
        else if (isFolder(f)) {
          tree.dirs.push(rel);
          next.push({ folder: f, rel });
        } else tree.files.push({ rel, size: Number(f.size), file: f });
        seen.add(rel);
      }
    });
    level = next;
  }
  return tree;
}

/** Whether `dest` already holds exactly this content. */
async function holds(dest: string, file: File): Promise<boolean> {
  if (statSync(dest).size !== Number(file.size)) return false;
  return (await sha256File(dest)) === file.sha256;
}

/** Downloads the remote `folder` (shown as `from`) into the local folder `dest`; the exit code. */
export async function downloadFolder(
  ctx: DownloadContext & { files: Files },
  folder: File,
  from: string,
  dest: string,
  opts: FolderDownloadOptions,
  out: { line: (text: string) => void; json: boolean },
): Promise<number> {
  const tree = await walkRemote(ctx.files, folder, opts.excluded, opts.jobs);
  for (const dir of ["", ...tree.dirs]) {
    const path = join(dest, ...dir.split("/"));
    try {
      mkdirSync(path, { recursive: true });
    } catch (err) {
      throw asLocal("create", path, err);
    }
  }
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  const run = new TreeRun(from, dest, tree.files.length, total);
  for (const rel of tree.skipped) run.skip(rel, "excluded");
  for (const rel of tree.clashes) run.fail(rel, "several entries have this name here: download them by id");
  await run.each(tree.files, opts.jobs, async (f, meter) => {
    const path = join(dest, ...f.rel.split("/"));
    try {
      if (existsSync(path) && !existsSync(statePath(path))) {
        if (await holds(path, f.file)) return "skipped";
        if (!opts.force) throw new Error(`${path} exists with other content: use --force to overwrite it`);
      }
      await downloadFile(ctx, f.file, path, meter);
    } catch (err) {
      throw asLocal("write", path, err);
    }
    return "done";
  });
  return run.finish(out.line, out.json, "downloaded");
}
