// What the toolbar and a file's row do: new folder, rename, move, move to the trash, download, copy a
// download link. Each tells the user what happened and reloads the list (without WatchFiles nothing
// else would); errors go to the caller, which shows them.
import { FileKind, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { downloads, files } from "./api.ts";
import { askName, pickFolder, showLink } from "./dialogs.ts";
import { h } from "./dom.ts";
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
  const target = await pickFolder(`Move ${f.name}`, f.id);
  if (target === undefined || target === f.parentId) return;
  await files.moveFile({ id: f.id, newParentId: target });
  // The breadcrumbs would show the old path.
  drive.folders.delete(f.id);
  drive.say(`Moved ${f.name}`);
  void drive.load();
}

export async function moveToTrash(drive: DriveState, f: StoredFile): Promise<void> {
  await files.deleteFile({ id: f.id });
  drive.say(`Moved ${f.name} to the trash`);
  void drive.load();
}

/** A short-lived download URL, absolute so that it works when pasted elsewhere. */
async function linkFor(f: StoredFile): Promise<string> {
  const { url } = await downloads.createDownloadUrl({ fileId: f.id });
  return new URL(url, location.origin).href;
}

/** Downloads through a link with `download`, so the browser saves the file under its name. */
export async function download(f: StoredFile): Promise<void> {
  const a = h("a", { href: await linkFor(f), download: f.name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export async function copyLink(drive: DriveState, f: StoredFile): Promise<void> {
  const url = await linkFor(f);
  try {
    await navigator.clipboard.writeText(url);
    drive.say(`Copied a download link for ${f.name}`);
  } catch {
    // No clipboard access (an insecure origin, a denied permission): show the link to copy by hand.
    await showLink(url);
  }
}
