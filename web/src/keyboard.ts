// The list's keyboard: ↑/↓ (and ←/→ between tiles) move between entries, Enter opens, Delete moves the
// selection (or the focused entry) to the trash, F2 renames, Ctrl/Cmd+A selects the page, Ctrl/Cmd+F
// goes to the search box (in the trash only Ctrl/Cmd+A). Keys typed into a field or a dialog stay theirs.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { DriveState } from "./drive-state.ts";
import { rename, trashMany } from "./file-actions.ts";
import { selectAll, selectedFiles } from "./selection.ts";

export function listKeyboard(drive: DriveState, search: HTMLInputElement, signal: AbortSignal): void {
  addEventListener(
    "keydown",
    (e) => {
      if (document.querySelector("dialog[open], .menu:popover-open")) return;
      const target = e.target as HTMLElement;
      const typing = target.matches("input:not([type=checkbox]), textarea, select");
      const mod = e.ctrlKey || e.metaKey;
      // The trash takes Ctrl/Cmd+A only (its rows have buttons, not names to open or rename).
      if (drive.route.view === "trash" && mod && !typing && e.key.toLowerCase() === "a") {
        e.preventDefault();
        selectAll(drive);
      }
      if (drive.route.view !== "files") return;
      if (mod && e.key.toLowerCase() === "f") {
        e.preventDefault();
        search.focus();
        search.select();
        return;
      }
      if (typing) return;
      if (mod && e.key.toLowerCase() === "a") {
        e.preventDefault();
        selectAll(drive);
        return;
      }
      if (mod || e.altKey) return;
      const entry = target.closest<HTMLElement>(".entry[data-id]");
      const index = entry ? Number(entry.dataset.index) : -1;
      const f: StoredFile | undefined = drive.entries[index];
      const step = stepFor(drive, e.key);
      if (step !== 0 && (entry || target === document.body || target === drive.el.main)) {
        e.preventDefault();
        focusEntry(drive, entry ? index + step : 0);
      } else if (f && e.key === "Enter" && !target.matches("a, button")) {
        e.preventDefault();
        entry?.querySelector<HTMLElement>(".open")?.click();
      } else if (f && e.key === "F2") {
        e.preventDefault();
        void rename(drive, f).catch((err) => drive.fail(err, f.name));
      } else if (e.key === "Delete" && (f || drive.selected.size)) {
        e.preventDefault();
        const chosen = drive.selected.size ? selectedFiles(drive) : [f as StoredFile];
        void trashMany(drive, chosen);
      }
    },
    { signal },
  );
}

/** How far a key moves: a row at a time in the table; in the grid ↑/↓ move a line of tiles. */
function stepFor(drive: DriveState, key: string): number {
  const perLine = drive.layout === "grid" ? tilesPerLine(drive.el.content) : 1;
  if (key === "ArrowDown") return perLine;
  if (key === "ArrowUp") return -perLine;
  if (drive.layout === "grid" && key === "ArrowRight") return 1;
  if (drive.layout === "grid" && key === "ArrowLeft") return -1;
  return 0;
}

function tilesPerLine(content: HTMLElement): number {
  const tiles = [...content.querySelectorAll<HTMLElement>(".tile")];
  const top = tiles[0]?.offsetTop;
  return Math.max(1, tiles.filter((t) => t.offsetTop === top).length);
}

export function focusEntry(drive: DriveState, index: number): void {
  const i = Math.max(0, Math.min(drive.entries.length - 1, index));
  const el = drive.el.content.querySelector<HTMLElement>(`.entry[data-index="${i}"] .open`);
  el?.focus();
  el?.scrollIntoView({ block: "nearest" });
}
