// A folder's view: its breadcrumbs and heading, then its page of the file list.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { type DriveState, PAGE_SIZE } from "./drive-state.ts";
import { fileTable } from "./file-table.ts";
import { fileGrid } from "./grid-view.ts";
import { pager } from "./pager.ts";

/** Draws the heading and crumbs and returns the list to show, or undefined when a newer load began. */
export async function folderView(
  drive: DriveState,
  folderId: string,
  stale: () => boolean,
): Promise<Child[] | undefined> {
  const { list } = drive;
  const [page, trail] = await Promise.all([
    files.listFiles({
      parentId: folderId,
      pageSize: PAGE_SIZE,
      pageToken: list.token,
      sort: list.sort,
      descending: list.descending,
    }),
    pathTo(drive, folderId),
  ]);
  if (stale()) return undefined;
  drive.el.heading.textContent = trail.length ? (trail[trail.length - 1]?.name ?? "") : "My files";
  mount(
    drive.el.crumbs,
    h("a", { href: "#/", "data-folder-id": "" }, "My files"),
    trail.map((f, i) => [
      h("span", { class: "sep", "aria-hidden": "true" }, " / "),
      i === trail.length - 1
        ? h("span", { "aria-current": "page" }, f.name)
        : h("a", { href: `#/folder/${encodeURIComponent(f.id)}`, "data-folder-id": f.id }, f.name),
    ]),
  );
  drive.entries = page.files;
  const shown = drive.layout === "grid" ? fileGrid(drive, page.files) : fileTable(drive, page.files);
  return [shown, pager(drive, page.nextPageToken)];
}

/** The folders from the top level down to `id`, from the cache where it has them (bounded against loops). */
async function pathTo(drive: DriveState, id: string): Promise<StoredFile[]> {
  const trail: StoredFile[] = [];
  for (let at = id; at && trail.length < 64; ) {
    let f = drive.folders.get(at);
    if (!f) {
      f = (await files.getFile({ id: at })).file;
      if (!f) break;
      drive.folders.set(at, f);
    }
    trail.unshift(f);
    at = f.parentId;
  }
  return trail;
}
