// Which entries of the page are selected: a click on a checkbox toggles one, a shift-click selects the
// range from the last one clicked, Ctrl/Cmd+A selects the page. The state lives in DriveState; this
// paints it onto the rows (or tiles) and the selection toolbar in place, without redrawing the list.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { DriveState } from "./drive-state.ts";

export function toggleSelected(drive: DriveState, index: number, range: boolean): void {
  const f = drive.entries[index];
  if (!f) return;
  if (range && drive.anchor >= 0) {
    // The range takes the state of the entry clicked last (shift-clicking after a deselect deselects).
    const on = drive.selected.has(drive.entries[drive.anchor]?.id ?? "");
    const [from, to] = drive.anchor < index ? [drive.anchor, index] : [index, drive.anchor];
    for (const e of drive.entries.slice(from, to + 1)) {
      if (on) drive.selected.add(e.id);
      else drive.selected.delete(e.id);
    }
  } else {
    if (drive.selected.has(f.id)) drive.selected.delete(f.id);
    else drive.selected.add(f.id);
    drive.anchor = index;
  }
  paintSelection(drive);
}

export function selectAll(drive: DriveState, on = true): void {
  drive.selected = new Set(on ? drive.entries.map((f) => f.id) : []);
  drive.anchor = -1;
  paintSelection(drive);
}

export const selectedFiles = (drive: DriveState): StoredFile[] =>
  drive.entries.filter((f) => drive.selected.has(f.id));

/** Drops ids no longer on the page (after a reload), then paints. */
export function keepSelection(drive: DriveState): void {
  const ids = new Set(drive.entries.map((f) => f.id));
  for (const id of drive.selected) if (!ids.has(id)) drive.selected.delete(id);
  if (drive.anchor >= drive.entries.length) drive.anchor = -1;
  paintSelection(drive);
}

export function paintSelection(drive: DriveState): void {
  const { content, selectionBar, selectionCount } = drive.el;
  for (const el of content.querySelectorAll<HTMLElement>(".entry[data-id]")) {
    const on = drive.selected.has(el.dataset.id ?? "");
    el.classList.toggle("selected", on);
    el.setAttribute("aria-selected", String(on));
    const box = el.querySelector<HTMLInputElement>("input.select");
    if (box) box.checked = on;
  }
  const all = content.querySelector<HTMLInputElement>("input.select-all");
  if (all) {
    all.checked = drive.entries.length > 0 && drive.selected.size === drive.entries.length;
    all.indeterminate = drive.selected.size > 0 && !all.checked;
  }
  const n = drive.selected.size;
  selectionBar.hidden = n === 0;
  selectionCount.textContent = `${n} selected`;
}
