// A folder's page as a table: one line per entry (checkbox, name, size, modified, ⋯ menu), and column
// headers that sort. A folder's name opens it, a file's name opens the viewer.
import { SortField, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type Child, h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { isFolder } from "./file-kinds.ts";
import { bytes, date } from "./format.ts";
import { rowMenuButton } from "./row-menu.ts";
import { selectAll, toggleSelected } from "./selection.ts";
import { pictureOf } from "./thumbnails.ts";
import { openViewer } from "./viewer.ts";

export interface TableOptions {
  /** A "Folder" column (search results): where the entry is. */
  where?: (f: StoredFile) => Child;
  /** What an empty first page says. */
  empty?: string;
}

export function fileTable(drive: DriveState, entries: StoredFile[], opts: TableOptions = {}): Child {
  if (entries.length === 0 && !drive.list.token)
    return h(
      "p",
      { class: "empty" },
      opts.empty ?? "Nothing here yet. Upload files or drop them on this page.",
    );
  const all = h("input", {
    type: "checkbox",
    class: "select-all",
    "aria-label": "Select all",
    onclick: (e: Event) => selectAll(drive, (e.target as HTMLInputElement).checked),
  });
  return h(
    "table",
    { class: "files", "aria-label": "Files", "aria-multiselectable": "true" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col", class: "check" }, all),
        sortHeader(drive, "Name", SortField.NAME, "name"),
        opts.where && h("th", { scope: "col", class: "location" }, "Folder"),
        sortHeader(drive, "Size", SortField.SIZE, "size"),
        sortHeader(drive, "Modified", SortField.UPDATED_AT, "date"),
        h("th", { scope: "col", class: "actions" }, h("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
    h(
      "tbody",
      null,
      entries.map((f, i) => fileRow(drive, f, i, opts.where)),
    ),
  );
}

/** A column header that sorts by its field; clicking the active one reverses the order. */
function sortHeader(drive: DriveState, label: string, field: SortField, cls: string): HTMLTableCellElement {
  const { list } = drive;
  const active = list.sort === field;
  return h(
    "th",
    {
      scope: "col",
      class: cls,
      "aria-sort": active ? (list.descending ? "descending" : "ascending") : "none",
    },
    h(
      "button",
      {
        type: "button",
        class: "sort",
        onclick: () => {
          // Names read best A→Z; sizes and dates are wanted largest and newest first.
          list.descending = active ? !list.descending : field !== SortField.NAME;
          list.sort = field;
          list.previous = [];
          list.token = "";
          void drive.load();
        },
      },
      label,
      active ? (list.descending ? " ↓" : " ↑") : "",
    ),
  );
}

/** The checkbox of entry `index`: a shift-click selects the range from the last one clicked. */
export function selectBox(drive: DriveState, f: StoredFile, index: number): HTMLInputElement {
  const box = h("input", { type: "checkbox", class: "select", "aria-label": `Select ${f.name}` });
  box.addEventListener("click", (e) => {
    // The state is ours (toggleSelected paints it back), so that a range can set many boxes at once.
    e.preventDefault();
    toggleSelected(drive, index, e.shiftKey);
  });
  return box;
}

/** The entry's name: a link into a folder, a button that opens a file's viewer. */
export function nameControl(drive: DriveState, f: StoredFile, ...icon: Child[]): HTMLElement {
  const label = h("span", { class: "filename" }, f.name);
  if (isFolder(f))
    return h("a", { href: `#/folder/${encodeURIComponent(f.id)}`, class: "open" }, icon, label);
  return h(
    "button",
    { type: "button", class: "open", title: f.name, onclick: () => openViewer(drive, f) },
    icon,
    label,
  );
}

/** The row's picture: the file's small thumbnail when there is one (thumbnails.ts), else its kind's icon. */
export const kindIcon = (f: StoredFile): Child => pictureOf(f, "row");

function fileRow(
  drive: DriveState,
  f: StoredFile,
  index: number,
  where?: (f: StoredFile) => Child,
): HTMLTableRowElement {
  const folder = isFolder(f);
  return h(
    "tr",
    {
      class: folder ? "entry folder" : "entry file",
      "data-id": f.id,
      "data-index": index,
      draggable: "true",
      "aria-selected": "false",
    },
    h("td", { class: "check" }, selectBox(drive, f, index)),
    h("td", { class: "name" }, nameControl(drive, f, kindIcon(f))),
    where && h("td", { class: "location" }, where(f)),
    h("td", { class: "size" }, folder ? "—" : bytes(Number(f.size))),
    h("td", { class: "date" }, date(f.updatedAt)),
    h("td", { class: "actions" }, rowMenuButton(drive, f)),
  );
}
