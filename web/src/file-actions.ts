// What the toolbar and a file's row do: new folder, rename, move, copy, move to the trash, download, copy
// a download link. Each tells the user what happened and reloads the list (without WatchFiles nothing
// else would); errors go to the caller, which shows them.
import { FileKind, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { deleteMany, type Outcome, placeMany } from "./batch.ts";
import { askName, pickFolder, showLink } from "./dialogs.ts";
import { h } from "./dom.ts";
import { downloadUrl, folderZipUrl } from "./download-url.ts";
import { type DriveState, targetFolder } from "./drive-state.ts";
import { isFolder } from "./file-kinds.ts";

export async function newFolder(drive: DriveState): Promise<void> {
  const name = await askName("New folder", "Folder name", "", "Create");
  if (!name) return;
  try {
    await files.createFolder({ parentId: targetFolder(drive), name });
    drive.say(`Created ${name}`);
    void drive.load();
  } catch (err) {
    drive.fail(err);
  }
}

export async function rename(drive: DriveState, f: StoredFile): Promise<void> {
  const name = await askName(
    `Rename ${f.kind === FileKind.FOLDER ? "folder" : "file"}`,
    "New name",
    f.name,
    "Rename",
  );
  if (!name || name === f.name) return;
  await files.renameFile({ id: f.id, name });
  // The breadcrumbs would show the old name.
  drive.folders.delete(f.id);
  drive.say(`Renamed to ${name}`);
  void drive.load();
}

export async function moveTo(drive: DriveState, f: StoredFile): Promise<void> {
  await moveMany(drive, [f]);
}

const titleFor = (verb: string, entries: StoredFile[]) =>
  entries.length === 1 ? `${verb} ${entries[0]?.name}` : `${verb} ${entries.length} items`;

/** Asks for a folder and moves the entries into it. */
export async function moveMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  if (entries.length === 0) return;
  const target = await pickFolder(titleFor("Move", entries), new Set(entries.map((f) => f.id)));
  if (target !== undefined) await moveInto(drive, entries, target);
}

/**
 * Moves entries into a folder in one batch: the ones whose name is taken there go through the conflict
 * dialog, the ones that fail are reported together and the others still move.
 */
export async function moveInto(drive: DriveState, entries: StoredFile[], target: string): Promise<void> {
  const moving = entries.filter((f) => f.parentId !== target && f.id !== target);
  if (moving.length === 0) return;
  const outcome = await placeMany("move", moving, target);
  // The breadcrumbs would show the old path.
  for (const f of moving) drive.folders.delete(f.id);
  report(drive, moving, outcome, "Moved");
}

export async function copyTo(drive: DriveState, f: StoredFile): Promise<void> {
  await copyMany(drive, [f]);
}

/** Asks for a folder (the entries' own one too: the copy then keeps both) and copies the entries into it. */
export async function copyMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  if (entries.length === 0) return;
  // A folder cannot be copied into itself: its own subtree is not offered.
  const folders = new Set(entries.filter(isFolder).map((f) => f.id));
  const target = await pickFolder(titleFor("Copy", entries), folders, "Copy here");
  if (target === undefined) return;
  report(drive, entries, await placeMany("copy", entries, target), "Copied");
}

export async function moveToTrash(drive: DriveState, f: StoredFile): Promise<void> {
  await trashMany(drive, [f]);
}

export async function trashMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  if (entries.length === 0) return;
  report(drive, entries, await deleteMany(entries), "Moved", " to the trash");
}

/** Tells what a batch did: the failures together in one error, else what was done (and skipped). */
function report(drive: DriveState, entries: StoredFile[], outcome: Outcome, verb: string, tail = ""): void {
  const { failed, skipped } = outcome;
  drive.selected.clear();
  void drive.load();
  const first = [...failed][0];
  if (first) {
    const [f, err] = first;
    drive.fail(err, failed.size === 1 ? f.name : `${f.name} and ${failed.size - 1} more`);
    return;
  }
  const done = entries.length - skipped;
  const items = (n: number) => (n === 1 ? "1 item" : `${n} items`);
  const what = entries.length === 1 ? entries[0]?.name : items(done);
  drive.say(
    done === 0
      ? `Skipped ${entries.length === 1 ? entries[0]?.name : items(skipped)}`
      : `${verb} ${what}${tail}${skipped ? ` (${skipped} skipped)` : ""}`,
  );
}

/**
 * Downloads through a link with `download`, so the browser saves the file under its name; `versionId`: one
 * of its earlier versions.
 */
export async function download(f: StoredFile, versionId?: string): Promise<void> {
  save(await downloadUrl(f, { versionId }), f.name);
}

/** Downloads a folder as a ZIP of its tree, streamed by the server (the browser shows its progress). */
export async function downloadZip(folder: StoredFile): Promise<void> {
  save(await folderZipUrl(folder), `${folder.name}.zip`);
}

/** Saves a URL under a name (an <a download> clicked). */
export function save(href: string, name: string): void {
  const a = h("a", { href, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export async function copyLink(drive: DriveState, f: StoredFile): Promise<void> {
  const url = await downloadUrl(f);
  try {
    await navigator.clipboard.writeText(url);
    drive.say(`Copied a download link for ${f.name}`);
  } catch {
    // No clipboard access (an insecure origin, a denied permission): show the link to copy by hand.
    await showLink(url);
  }
}
