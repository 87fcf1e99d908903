// What the toolbar and a file's row do: new folder, rename, move, move to the trash, download, copy a
// download link. Each tells the user what happened and reloads the list (without WatchFiles nothing
// else would); errors go to the caller, which shows them.
import { FileKind, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { askName, pickFolder, showLink } from "./dialogs.ts";
import { h } from "./dom.ts";
import { downloadUrl } from "./download-url.ts";
import { type DriveState, targetFolder } from "./drive-state.ts";

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

/** Asks for a folder and moves the entries into it. */
export async function moveMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  if (entries.length === 0) return;
  const title = entries.length === 1 ? `Move ${entries[0]?.name}` : `Move ${entries.length} items`;
  const target = await pickFolder(title, new Set(entries.map((f) => f.id)));
  if (target !== undefined) await moveInto(drive, entries, target);
}

/**
 * Moves entries into a folder, one call each (the batch API of issue 16 replaces the loop): the ones
 * that fail are reported together and the others still move.
 */
export async function moveInto(drive: DriveState, entries: StoredFile[], target: string): Promise<void> {
  const moving = entries.filter((f) => f.parentId !== target && f.id !== target);
  if (moving.length === 0) return;
  const failed = await eachOf(moving, (f) => files.moveFile({ id: f.id, newParentId: target }));
  // The breadcrumbs would show the old path.
  for (const f of moving) drive.folders.delete(f.id);
  report(drive, moving, failed, "Moved");
}

export async function moveToTrash(drive: DriveState, f: StoredFile): Promise<void> {
  await trashMany(drive, [f]);
}

export async function trashMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  const failed = await eachOf(entries, (f) => files.deleteFile({ id: f.id }));
  report(drive, entries, failed, "Moved", " to the trash");
}

/** Runs `call` for each entry, a few at a time; the errors by entry. */
async function eachOf(
  entries: StoredFile[],
  call: (f: StoredFile) => Promise<unknown>,
): Promise<Map<StoredFile, unknown>> {
  const failed = new Map<StoredFile, unknown>();
  const queue = [...entries];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) await call(f).catch((err) => failed.set(f, err));
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return failed;
}

function report(
  drive: DriveState,
  entries: StoredFile[],
  failed: Map<StoredFile, unknown>,
  verb: string,
  tail = "",
): void {
  drive.selected.clear();
  void drive.load();
  const done = entries.length - failed.size;
  const what = (n: number, one?: string) => (n === 1 && one ? one : `${n} items`);
  const first = [...failed][0];
  if (first) {
    const [f, err] = first;
    drive.fail(err, failed.size === 1 ? f.name : `${f.name} and ${failed.size - 1} more`);
    return;
  }
  drive.say(`${verb} ${what(done, entries[0]?.name)}${tail}`);
}

/** Downloads through a link with `download`, so the browser saves the file under its name. */
export async function download(f: StoredFile): Promise<void> {
  const a = h("a", { href: await downloadUrl(f), download: f.name, hidden: true });
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
