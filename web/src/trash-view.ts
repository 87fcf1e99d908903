// The trash: deleted files and folders with their deletion date, to restore or delete for good.
import { FileKind, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { confirmAction } from "./dialogs.ts";
import { type Child, h, mount } from "./dom.ts";
import { type DriveState, PAGE_SIZE } from "./drive-state.ts";
import { bytes, date } from "./format.ts";
import { pager } from "./pager.ts";

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
  drive.entries = [];
  return [trashTable(drive, page.files), pager(drive, page.nextPageToken)];
}

function trashTable(drive: DriveState, entries: StoredFile[]): Child {
  if (entries.length === 0 && !drive.list.token) return h("p", { class: "empty" }, "The trash is empty.");
  return h(
    "table",
    { class: "files trash", "aria-label": "Trash" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, "Name"),
        h("th", { scope: "col" }, "Size"),
        h("th", { scope: "col" }, "Deleted"),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
    h(
      "tbody",
      null,
      entries.map((f) => trashRow(drive, f)),
    ),
  );
}

function trashRow(drive: DriveState, f: StoredFile): HTMLTableRowElement {
  return h(
    "tr",
    { class: "entry", "data-id": f.id },
    h("td", { class: "name" }, h("span", { class: "filename" }, f.name)),
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
            onclick: () => void restore(drive, f).catch(drive.fail),
          },
          "Restore",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "aria-label": `Delete ${f.name} forever`,
            onclick: () => void purge(drive, f).catch(drive.fail),
          },
          "Delete forever",
        ),
      ),
    ),
  );
}

async function restore(drive: DriveState, f: StoredFile): Promise<void> {
  await files.restoreFile({ id: f.id });
  drive.say(`Restored ${f.name}`);
  void drive.load();
}

async function purge(drive: DriveState, f: StoredFile): Promise<void> {
  if (!(await confirmAction("Delete forever?", `${f.name} will be gone for good.`, "Delete forever"))) return;
  await files.purgeFile({ id: f.id });
  drive.say(`Deleted ${f.name} for good`);
  void drive.load();
}
