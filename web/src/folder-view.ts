// A folder's view: its breadcrumbs and heading, then its page of the file list.
import { files } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { type DriveState, PAGE_SIZE } from "./drive-state.ts";
import { fileTable } from "./file-table.ts";
import { pathTo } from "./folder-path.ts";
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
