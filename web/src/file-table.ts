// A folder's page as a table: one row per file or folder with its actions, and column headers that sort.
import { FileKind, SortField, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type Child, h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { copyLink, download, moveTo, moveToTrash, rename } from "./file-actions.ts";
import { bytes, date } from "./format.ts";

export function fileTable(drive: DriveState, entries: StoredFile[]): Child {
  if (entries.length === 0 && !drive.list.token)
    return h("p", { class: "empty" }, "Nothing here yet. Upload files or drop them on this page.");
  return h(
    "table",
    { class: "files", "aria-label": "Files" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        sortHeader(drive, "Name", SortField.NAME),
        sortHeader(drive, "Size", SortField.SIZE),
        sortHeader(drive, "Modified", SortField.UPDATED_AT),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
    h(
      "tbody",
      null,
      entries.map((f) => fileRow(drive, f)),
    ),
  );
}

/** A column header that sorts by its field; clicking the active one reverses the order. */
function sortHeader(drive: DriveState, label: string, field: SortField): HTMLTableCellElement {
  const { list } = drive;
  const active = list.sort === field;
  return h(
    "th",
    { scope: "col", "aria-sort": active ? (list.descending ? "descending" : "ascending") : "none" },
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

function fileRow(drive: DriveState, f: StoredFile): HTMLTableRowElement {
  const folder = f.kind === FileKind.FOLDER;
  // The label names the file: screen readers announce a row's buttons out of the table's context.
  const act = (label: string, run: () => Promise<void>, cls?: string) =>
    h(
      "button",
      {
        type: "button",
        class: cls,
        "aria-label": `${label} ${f.name}`,
        onclick: () => void run().catch(drive.fail),
      },
      label,
    );
  return h(
    "tr",
    { class: folder ? "entry folder" : "entry file", "data-id": f.id },
    h(
      "td",
      { class: "name" },
      folder
        ? h(
            "a",
            { href: `#/folder/${encodeURIComponent(f.id)}`, class: "open" },
            h("span", { class: "icon folder", "aria-hidden": "true" }),
            h("span", { class: "filename" }, f.name),
          )
        : h(
            "span",
            null,
            h("span", { class: "icon file", "aria-hidden": "true" }),
            h("span", { class: "filename" }, f.name),
          ),
    ),
    h("td", { class: "size" }, folder ? "—" : bytes(Number(f.size))),
    h("td", { class: "date" }, date(f.updatedAt)),
    h(
      "td",
      { class: "actions" },
      h(
        "div",
        null,
        !folder && act("Download", () => download(f)),
        !folder && act("Copy link", () => copyLink(drive, f)),
        act("Rename", () => rename(drive, f)),
        act("Move", () => moveTo(drive, f)),
        act("Delete", () => moveToTrash(drive, f), "danger"),
      ),
    ),
  );
}
