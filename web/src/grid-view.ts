// A folder's page as tiles: a picture (the thumbnail when thumbnails.ts has one, else the kind's icon),
// the name, a checkbox and the same ⋯ menu as a row. Same selection, keyboard and drag as the table.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type Child, h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { isFolder } from "./file-kinds.ts";
import { nameControl, selectBox } from "./file-table.ts";
import { rowMenuButton } from "./row-menu.ts";
import { pictureOf } from "./thumbnails.ts";

export function fileGrid(drive: DriveState, entries: StoredFile[]): Child {
  if (entries.length === 0 && !drive.list.token)
    return h("p", { class: "empty" }, "Nothing here yet. Upload files or drop them on this page.");
  return h(
    "ul",
    { class: "grid", "aria-label": "Files", "aria-multiselectable": "true" },
    entries.map((f, i) => tile(drive, f, i)),
  );
}

function tile(drive: DriveState, f: StoredFile, index: number): HTMLLIElement {
  return h(
    "li",
    {
      class: isFolder(f) ? "entry tile folder" : "entry tile file",
      "data-id": f.id,
      "data-index": index,
      draggable: "true",
      "aria-selected": "false",
    },
    h("div", { class: "picture" }, pictureOf(f, "tile")),
    h(
      "div",
      { class: "tile-foot" },
      selectBox(drive, f, index),
      nameControl(drive, f),
      rowMenuButton(drive, f),
    ),
  );
}
