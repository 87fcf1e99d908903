// Moving entries by dragging them onto a folder (its row or tile) or a breadcrumb. A drag carries the
// selection when it starts on a selected entry, else the one entry. Files dragged in from the desktop are
// uploads (file-picking.ts); this only takes drags of our own entries.
import type { DriveState } from "./drive-state.ts";
import { moveInto } from "./file-actions.ts";
import { selectedFiles } from "./selection.ts";

const TYPE = "application/x-filestore-entries";

export function dragToMove(drive: DriveState, signal: AbortSignal): void {
  const { content, crumbs } = drive.el;
  let dragged: string[] = [];
  content.addEventListener(
    "dragstart",
    (e) => {
      const entry = (e.target as HTMLElement).closest?.<HTMLElement>(".entry[data-id]");
      if (!entry || !e.dataTransfer) return;
      const id = entry.dataset.id as string;
      dragged = drive.selected.has(id) ? selectedFiles(drive).map((f) => f.id) : [id];
      e.dataTransfer.setData(TYPE, JSON.stringify(dragged));
      e.dataTransfer.effectAllowed = "move";
    },
    { signal },
  );
  content.addEventListener("dragend", () => clearOver(), { signal });

  /** The folder id an event is over: a folder entry that is not being dragged, or a breadcrumb. */
  const targetOf = (e: DragEvent): { el: HTMLElement; id: string } | undefined => {
    if (!e.dataTransfer?.types.includes(TYPE)) return undefined;
    const t = e.target as HTMLElement;
    const folder = t.closest?.<HTMLElement>(".entry.folder[data-id]");
    if (folder && !dragged.includes(folder.dataset.id as string))
      return { el: folder, id: folder.dataset.id as string };
    const crumb = t.closest?.<HTMLElement>("[data-folder-id]");
    if (crumb) return { el: crumb, id: crumb.dataset.folderId as string };
    return undefined;
  };
  for (const zone of [content, crumbs]) {
    zone.addEventListener(
      "dragover",
      (e) => {
        const to = targetOf(e);
        if (!to) return;
        e.preventDefault();
        (e.dataTransfer as DataTransfer).dropEffect = "move";
        if (!to.el.classList.contains("drop-target")) {
          clearOver();
          to.el.classList.add("drop-target");
        }
      },
      { signal },
    );
    zone.addEventListener(
      "drop",
      (e) => {
        const to = targetOf(e);
        clearOver();
        if (!to) return;
        e.preventDefault();
        e.stopPropagation();
        const ids = new Set(JSON.parse(e.dataTransfer?.getData(TYPE) || "[]") as string[]);
        void moveInto(
          drive,
          drive.entries.filter((f) => ids.has(f.id)),
          to.id,
        );
      },
      { signal },
    );
  }
}

function clearOver(): void {
  for (const el of document.querySelectorAll(".drop-target")) el.classList.remove("drop-target");
}
