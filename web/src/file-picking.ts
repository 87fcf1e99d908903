// Files into the upload queue: from the toolbar's pickers (files, or a folder with its subfolders) and from
// files and folders dropped on the main area. Both go to the folder on screen; the trash takes none.
import { type DriveState, targetFolder } from "./drive-state.ts";
import type { UploadQueue } from "./uploads.ts";

type Picked = { file: File; path: string };

export function acceptPickedFiles(drive: DriveState, queue: UploadQueue): void {
  const picked = (input: HTMLInputElement) => () => {
    const chosen = [...(input.files ?? [])].map((file) => ({
      file,
      path: file.webkitRelativePath || file.name,
    }));
    // Cleared so that picking the same file again (to resume it) fires "change" again.
    input.value = "";
    if (chosen.length) queue.add(chosen, targetFolder(drive));
  };
  drive.el.filePicker.addEventListener("change", picked(drive.el.filePicker));
  drive.el.folderPicker.addEventListener("change", picked(drive.el.folderPicker));
}

export function acceptDrops(drive: DriveState, queue: UploadQueue): void {
  const zone = drive.el.main;
  // dragenter and dragleave fire for every child crossed: count them to know when the drag really left.
  let depth = 0;
  // Only drags that carry files are uploads: entries dragged within the list are moves (drag-move.ts).
  const uploading = (e: DragEvent) =>
    drive.route.view === "files" && !!e.dataTransfer?.types.includes("Files");
  zone.addEventListener("dragenter", (e) => {
    if (!uploading(e)) return;
    e.preventDefault();
    depth++;
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove("dragging");
  });
  zone.addEventListener("dragover", (e) => {
    if (!uploading(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("drop", (e) => {
    if (!uploading(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    if (!e.dataTransfer) return;
    const target = targetFolder(drive);
    droppedFiles(e.dataTransfer)
      .then((entries) => entries.length && queue.add(entries, target))
      .catch(drive.fail);
  });
}

/** Files of a drop, with their paths inside dropped folders. */
async function droppedFiles(dt: DataTransfer): Promise<Picked[]> {
  const out: Picked[] = [];
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...dt.files);
  for (const f of loose) out.push({ file: f, path: f.name });
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ file, path: prefix + entry.name });
      return;
    }
    // A directory reader hands out its entries in batches until an empty one.
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) return;
      for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  for (const e of entries) await walk(e, "");
  return out;
}
