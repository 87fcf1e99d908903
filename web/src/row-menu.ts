// One overflow menu per entry ("⋯"): the entry's actions in a popover, so that a row stays one line on a
// phone. The popover sits in the top layer (never clipped by the list) and closes on a click elsewhere
// or Escape; arrow keys move between its items.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { copyLink, copyTo, download, downloadZip, moveTo, moveToTrash, rename } from "./file-actions.ts";
import { isFolder } from "./file-kinds.ts";
import { openShareDialog } from "./share-dialog.ts";
import { showVersions } from "./versions.ts";

interface MenuItem {
  label: string;
  run: () => Promise<void>;
  danger?: boolean;
}

/** The entry's actions, in menu order. */
function itemsFor(drive: DriveState, f: StoredFile): MenuItem[] {
  const folder = isFolder(f);
  return [
    folder
      ? { label: "Download as ZIP", run: () => downloadZip(f) }
      : { label: "Download", run: () => download(f) },
    { label: "Share", run: () => openShareDialog(drive, f) },
    ...(folder ? [] : [{ label: "Copy link", run: () => copyLink(drive, f) }]),
    { label: "Rename", run: () => rename(drive, f) },
    { label: "Move", run: () => moveTo(drive, f) },
    { label: "Copy", run: () => copyTo(drive, f) },
    ...(folder ? [] : [{ label: "Versions", run: () => showVersions(drive, f) }]),
    { label: "Delete", run: () => moveToTrash(drive, f), danger: true },
  ];
}

export function rowMenuButton(drive: DriveState, f: StoredFile): HTMLButtonElement {
  const button = h(
    "button",
    {
      type: "button",
      class: "menu-button",
      "aria-label": `Actions for ${f.name}`,
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      title: "Actions",
    },
    "⋯",
  );
  button.addEventListener("click", () => openMenu(drive, f, button));
  return button;
}

/** Opens the entry's menu under `anchor` (its ⋯ button); a context menu could open it at a row too. */
export function openMenu(drive: DriveState, f: StoredFile, anchor: HTMLElement): void {
  const menu = h("div", { class: "menu", role: "menu", "aria-label": `Actions for ${f.name}` });
  menu.setAttribute("popover", "auto");
  const items = itemsFor(drive, f).map((it) =>
    h(
      "button",
      {
        type: "button",
        role: "menuitem",
        class: it.danger ? "danger" : undefined,
        // The label names the file: screen readers announce items out of the list's context.
        "aria-label": `${it.label} ${f.name}`,
        tabindex: -1,
        onclick: () => {
          menu.hidePopover();
          void it.run().catch((err) => drive.fail(err, f.name));
        },
      },
      it.label,
    ),
  );
  menu.append(...items);
  menu.addEventListener("keydown", (e) => {
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    const to = e.key === "ArrowDown" ? at + 1 : e.key === "ArrowUp" ? at - 1 : undefined;
    if (to === undefined) return;
    e.preventDefault();
    items[(to + items.length) % items.length]?.focus();
  });
  menu.addEventListener("toggle", (e) => {
    if ((e as ToggleEvent).newState !== "closed") return;
    anchor.setAttribute("aria-expanded", "false");
    menu.remove();
    // Back to the button unless the user moved on (an item opened a dialog, which takes focus itself).
    if (!document.activeElement || document.activeElement === document.body) anchor.focus();
  });
  document.body.append(menu);
  menu.showPopover();
  anchor.setAttribute("aria-expanded", "true");
  // Below the button, right-aligned with it, flipped up when there is no room below.
  const r = anchor.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  const top = r.bottom + m.height > innerHeight ? Math.max(4, r.top - m.height) : r.bottom;
  menu.style.top = `${top}px`;
  menu.style.left = `${Math.max(4, Math.min(r.right - m.width, innerWidth - m.width - 4))}px`;
  items[0]?.focus();
}
