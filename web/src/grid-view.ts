// A folder's page as tiles: a picture (the thumbnail when thumbnailFor has one, else the kind's icon),
// the name, a checkbox and the same ⋯ menu as a row. Same selection, keyboard and drag as the table.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type Child, h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { isFolder, viewKind } from "./file-kinds.ts";
import { nameControl, selectBox } from "./file-table.ts";
import { rowMenuButton } from "./row-menu.ts";
import { thumbnailFor } from "./thumbnails.ts";

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
  const thumb = thumbnailFor(f);
  const picture = thumb
    ? h("img", { class: "thumb", src: thumb, alt: "", loading: "lazy", decoding: "async" })
    : h("span", { class: `tile-icon icon ${viewKind(f)}`, "aria-hidden": "true" });
  return h(
    "li",
    {
      class: isFolder(f) ? "entry tile folder" : "entry tile file",
      "data-id": f.id,
      "data-index": index,
      draggable: "true",
      "aria-selected": "false",
    },
    h("div", { class: "picture" }, picture),
    h(
      "div",
      { class: "tile-foot" },
      selectBox(drive, f, index),
      nameControl(drive, f),
      rowMenuButton(drive, f),
    ),
  );
}
