// `filestore upload FOLDER`: the folder is recreated under the remote destination (folders through
// CreateFolder, parents first), then its files are uploaded a few at a time, each exactly as a single
// upload (instant or resumable multipart: upload.ts). A file already in its remote folder with the same
// name, size and SHA-256 is skipped, so running the same command again finishes an interrupted one.
// Folders that exist are merged into; a file whose name is taken by other content follows --on-conflict
// (under "fail" it is refused before its bytes are sent).
import { basename, resolve } from "node:path";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { ConflictPolicy, NameTaken, nameTakenAt, within } from "./conflict.ts";
import { asLocal } from "./local-errors.ts";
import { type LocalFile, walkLocal } from "./local-tree.ts";
import { ensureFolder, isFolder, listFolder } from "./remote.ts";
import { TreeRun } from "./tree-transfer.ts";
import { sha256File, type UploadContext, uploadFile } from "./upload.ts";

export interface FolderUploadOptions {
  jobs: number;
  instant: boolean;
  onConflict: ConflictPolicy;
  excluded: (rel: string) => boolean;
}

type Place = { folder: File; entries: File[] } | { error: unknown };

const parentOf = (rel: string) => rel.slice(0, Math.max(0, rel.lastIndexOf("/")));
const nameOf = (rel: string) => rel.slice(rel.lastIndexOf("/") + 1).normalize("NFC");

/** The remote folders of the tree, each with its entries; a folder that cannot be created fails its files. */
async function placeFolders(ctx: UploadContext, top: File, dirs: string[]): Promise<Map<string, Place>> {
  const places = new Map<string, Place>([
    ["", { folder: top, entries: await listFolder(ctx.files, top.id) }],
  ]);
  for (const rel of dirs) {
    const parent = places.get(parentOf(rel)) as Place;
    if ("error" in parent) {
      places.set(rel, parent);
      continue;
    }
    try {
      const folder = await ensureFolder(ctx.files, parent.folder, nameOf(rel), parent.entries);
      const existed = parent.entries.some((f) => f.id === folder.id);
      places.set(rel, { folder, entries: existed ? await listFolder(ctx.files, folder.id) : [] });
    } catch (err) {
      places.set(rel, { error: err });
    }
  }
  return places;
}

/** Uploads `dir` into the remote folder `into` (shown as `intoPath`); the summary's exit code. */
export async function uploadFolder(
  ctx: UploadContext,
  dir: string,
  into: File,
  intoPath: string,
  opts: FolderUploadOptions,
  out: { line: (text: string) => void; json: boolean },
): Promise<number> {
  const name = basename(resolve(dir)).normalize("NFC");
  const tree = walkLocal(dir, opts.excluded);
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  const destination = within(intoPath, name);
  const run = new TreeRun(dir, destination, tree.files.length, total);
  for (const s of tree.skipped) run.skip(`${dir.replace(/\/?$/, "/")}${s.rel}`, s.why);
  const top = await ensureFolder(ctx.files, into, name);
  const places = await placeFolders(ctx, top, tree.dirs);
  await run.each(tree.files, opts.jobs, async (f: LocalFile, meter) => {
    const place = places.get(parentOf(f.rel)) as Place;
    if ("error" in place) throw place.error;
    const there = place.entries.find((e) => e.name === nameOf(f.rel));
    const remotePath = within(destination, f.rel.normalize("NFC"));
    try {
      const same = there && !isFolder(there) && Number(there.size) === f.size;
      if (same && there.sha256 === (await sha256File(f.path))) return "skipped";
      if (there && opts.onConflict === ConflictPolicy.FAIL) throw new NameTaken(remotePath);
      const target = { parentId: place.folder.id, instant: opts.instant, onConflict: opts.onConflict };
      await uploadFile(ctx, f.path, target, meter);
    } catch (err) {
      throw asLocal("read", f.path, nameTakenAt(err, remotePath, opts.onConflict));
    }
    return "done";
  });
  return run.finish(out.line, out.json, "uploaded");
}
