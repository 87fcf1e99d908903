// The trash: deleted files and folders with the folder each was deleted from and its deletion date, to
// restore or delete for good one at a time or as a selection (the selection bar's Restore and Delete
// forever), and "Empty trash".
import {
  FileKind,
  type File as StoredFile,
  type TrashEntry,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { type DriveState, PAGE_SIZE } from "./drive-state.ts";
import { kindIcon, selectBox } from "./file-table.ts";
import { bytes, date } from "./format.ts";
import { pager } from "./pager.ts";
import { selectAll } from "./selection.ts";
import { emptyTrash, purgeMany, restoreMany } from "./trash-actions.ts";

/** Draws the heading and crumbs and returns the list to show, or undefined when a newer load began. */
export async function trashView(drive: DriveState, stale: () => boolean): Promise<Child[] | undefined> {
  drive.el.heading.textContent = "Trash";
  mount(
    drive.el.crumbs,
    h("span", null, "Trash"),
    h("span", { class: "muted" }, " — deleted files can be restored"),
  );
  const page = await files.listTrash({ pageSize: PAGE_SIZE, pageToken: drive.list.token });
  if (stale()) return undefined;
  const entries = page.entries.filter((e): e is TrashEntry & { file: StoredFile } => !!e.file);
  drive.entries = entries.map((e) => e.file);
  const empty = entries.length === 0 && !drive.list.token;
  const bar = h(
    "div",
    { class: "trash-bar" },
    h("span", { class: "muted" }, "Items in the trash are deleted for good after a while."),
    h(
      "button",
      {
        type: "button",
        id: "empty-trash",
        class: "danger",
        disabled: empty,
        onclick: () => void emptyTrash(drive).catch(drive.fail),
      },
      "Empty trash",
    ),
  );
  return [bar, trashTable(drive, entries, empty), pager(drive, page.nextPageToken)];
}

function trashTable(
  drive: DriveState,
  entries: (TrashEntry & { file: StoredFile })[],
  empty: boolean,
): Child {
  if (empty) return h("p", { class: "empty" }, "The trash is empty.");
  const all = h("input", {
    type: "checkbox",
    class: "select-all",
    "aria-label": "Select all",
    onclick: (e: Event) => selectAll(drive, (e.target as HTMLInputElement).checked),
  });
  return h(
    "table",
    { class: "files trash", "aria-label": "Trash", "aria-multiselectable": "true" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col", class: "check" }, all),
        h("th", { scope: "col", class: "name" }, "Name"),
        h("th", { scope: "col", class: "origin" }, "Deleted from"),
        h("th", { scope: "col", class: "size" }, "Size"),
        h("th", { scope: "col", class: "date" }, "Deleted"),
        h("th", { scope: "col", class: "actions" }, h("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
    h(
      "tbody",
      null,
      entries.map((e, i) => trashRow(drive, e, i)),
    ),
  );
}

/** Where the entry was: its folder's path, or a note that restoring brings it back to the top level. */
function origin(path: string): Child {
  if (path === "/") return "My files";
  if (path) return h("span", { title: path }, path);
  return h("span", { class: "muted", title: "That folder is gone: restoring puts it in My files" }, "(gone)");
}

function trashRow(
  drive: DriveState,
  e: TrashEntry & { file: StoredFile },
  index: number,
): HTMLTableRowElement {
  const f = e.file;
  return h(
    "tr",
    { class: "entry", "data-id": f.id, "data-index": index, "aria-selected": "false" },
    h("td", { class: "check" }, selectBox(drive, f, index)),
    h("td", { class: "name" }, kindIcon(f), h("span", { class: "filename" }, f.name)),
    h("td", { class: "origin" }, origin(e.originalPath)),
    h("td", { class: "size" }, f.kind === FileKind.FOLDER ? "—" : bytes(Number(f.size))),
    h("td", { class: "date" }, date(f.deletedAt)),
    h(
      "td",
      { class: "actions" },
      h(
        "div",
        null,
        h(
          "button",
          {
            type: "button",
            "aria-label": `Restore ${f.name}`,
            onclick: () => void restoreMany(drive, [f]).catch(drive.fail),
          },
          "Restore",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "aria-label": `Delete ${f.name} forever`,
            onclick: () => void purgeMany(drive, [f]).catch(drive.fail),
          },
          "Delete forever",
        ),
      ),
    ),
  );
}
